#!/bin/bash
# demo.sh [COUNT]: install what is missing, build, start VM on the hosted
# machine serving a live demo workload (`vm serve --workload demo`), and
# watch it with vmtop until you quit it (q or F10). Without a terminal, or
# with COUNT, vmtop prints COUNT snapshots a second apart in batch mode
# instead (3 by default). The server stops with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build

sock=$(mktemp -u /tmp/vmscope-demo.XXXXXX.sock)
build/vm serve --workload demo --socket "$sock" 2>/tmp/vmscope-demo.log &
server=$!
stop() {
	kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM
for _ in $(seq 50); do
	[ -S "$sock" ] && break
	sleep 0.1
done
echo "== vm serve --workload demo (pid $server, socket $sock, log /tmp/vmscope-demo.log)"
sleep 1
echo "== the processes a second later:"
build/vmstat/vmstat --socket "$sock" -P
if [ $# -eq 0 ] && [ -t 0 ] && [ -t 1 ]; then
	echo "== vmtop (q quits, h helps; Tab for the cache, slab and counters, Enter for a process's regions)"
	sleep 1
	build/vmtop/vmtop --socket "$sock" -d 1
else
	echo "== vmtop -b -n ${1:-3} -d 1 (no terminal: batch mode)"
	build/vmtop/vmtop --socket "$sock" -b -n "${1:-3}" -d 1
fi
