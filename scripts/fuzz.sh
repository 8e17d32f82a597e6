#!/bin/bash
# fuzz.sh [SECONDS] [NAME...]: build the fuzzers (build-fuzz, clang with
# -DVM_FUZZ=ON) and run each named one (default: all) for SECONDS
# (default 600), one per CPU at a time. A fuzzer goes on from the corpus
# it has built up in build-fuzz/fuzz/NAME/corpus (made from the seeds the
# first time), and prints its executions, corpus size and findings; an
# input that found something is left as build-fuzz/fuzz/NAME/crash-* (see
# docs/fuzzing.md for turning it into a regression input).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(vm_calls scenario vminfo_reply debug_request)
case $seconds in
'' | *[!0-9]*)
	echo "usage: scripts/fuzz.sh [SECONDS] [NAME...]" >&2
	exit 2
	;;
esac

bash scripts/setup.sh build-fuzz -DVM_FUZZ=ON -DCMAKE_C_COMPILER=clang
bindir=$PWD/build-fuzz/fuzz
jobs=$(nproc)
status=0
pids=()
for name in "${names[@]}"; do
	if [ ! -x "$bindir/fuzz_$name" ]; then
		echo "fuzz.sh: no fuzzer $name" >&2
		exit 2
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		sleep 1
	done
	echo "== fuzz $name: ${seconds} s"
	sh fuzz/run.sh --keep "$name" "$seconds" "$bindir" >"$bindir/$name.summary" 2>&1 &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	if wait "${pids[$i]}"; then
		grep '^fuzz ' "$bindir/${names[$i]}.summary"
	else
		status=1
		cat "$bindir/${names[$i]}.summary"
	fi
done
[ $status = 0 ] && echo "== no findings" || echo "== findings: see above"
exit $status
