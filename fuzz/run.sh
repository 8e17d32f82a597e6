#!/bin/sh
# run.sh MODE NAME SECONDS BINDIR: run fuzzer NAME (BINDIR/fuzz_NAME) as
# the CTest tests and scripts/fuzz.sh do (docs/fuzzing.md). MODE:
#   --fresh    fuzz SECONDS from the seeds alone (BINDIR/NAME/corpus is
#              made anew: seeds from the test scenarios and fuzz/regress)
#   --keep     fuzz SECONDS, going on from BINDIR/NAME/corpus if it exists
#   --regress  run each input in fuzz/regress/NAME/ once
# Exits non-zero on any finding; the input that found it is saved as
# BINDIR/NAME/crash-* (or leak-*, timeout-*, oom-*). Prints one summary
# line: fuzz NAME: N execs (E/s), corpus C inputs, F findings.
set -eu

mode=$1 name=$2 seconds=$3 bindir=$4
src=$(cd "$(dirname "$0")/.." && pwd)
fuzzer=$bindir/fuzz_$name
work=$bindir/$name
regress=$src/fuzz/regress/$name
# A slow input is a finding too, but a loaded CI machine is slower.
opts="-timeout=25 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1"

if [ "$mode" = --regress ]; then
	set -- "$regress"/*
	if [ ! -e "$1" ]; then
		echo "fuzz.regress $name: no regression inputs"
		exit 0
	fi
	echo "fuzz.regress $name: $# inputs"
	exec "$fuzzer" $opts -runs=1 "$@"
fi

mkdir -p "$work"
if [ "$mode" = --fresh ]; then
	rm -rf "$work/corpus"
fi
if [ ! -d "$work/corpus" ]; then
	mkdir -p "$work/corpus"
	scenarios=$(find "$src/tests/scenarios" "$src/examples" -name '*.scn' | sort)
	case $name in
	vm_calls) "$bindir/fuzz_mkseeds" calls "$work/corpus" $scenarios >/dev/null ;;
	vminfo_reply) "$bindir/fuzz_mkseeds" replies "$work/corpus" $scenarios >/dev/null ;;
	debug_request) "$bindir/fuzz_mkseeds" requests "$work/corpus" ;;
	scenario)
		for f in $scenarios $(find "$src/tests/scenarios-exec" -name '*.scn' | sort); do
			cp "$f" "$work/corpus/$(echo "${f#"$src"/}" | tr / _)"
		done
		;;
	esac
	if [ -d "$regress" ]; then
		cp "$regress"/* "$work/corpus/" 2>/dev/null || true
	fi
fi

rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
status=0
"$fuzzer" $opts -max_total_time="$seconds" -artifact_prefix="$work/" "$work/corpus" \
	>"$work/log" 2>&1 || status=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
corpus=$(find "$work/corpus" -type f | wc -l)
findings=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
	-o -name 'oom-*' \) | wc -l)
if [ "$status" != 0 ]; then
	tail -n 60 "$work/log"
	[ "$findings" -gt 0 ] || findings=1
fi
echo "fuzz $name: ${execs:-0} execs (${rate:-0}/s), corpus $corpus inputs, $findings findings" \
	"(log: $work/log)"
ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
exit "$status"
