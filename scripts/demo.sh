#!/bin/bash
# demo.sh [COUNT]: install what is missing, build, start VM on the hosted
# machine serving a live demo workload (`vm serve --workload demo`), and
# watch it with `vmstat 1` until you press Ctrl-C (or for COUNT rows); the
# server stops with it.
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
echo "== vmstat 1 (Ctrl-C stops the demo):"
build/vmstat/vmstat --socket "$sock" 1 ${1:-}
