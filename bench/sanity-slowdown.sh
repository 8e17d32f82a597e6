#!/bin/bash
# sanity-slowdown.sh [OPS [REPS]]: the VM_SANITY build's slowdown on the
# model-based test (tests/model): the same run (seed 1, OPS steps, VM's
# consistency check after every call) in a plain build and in a VM_SANITY
# build, REPS times each; prints the median, min and max wall time of each
# and the ratio of the medians. Goal (issue 11): at most 3x.
#
# Builds bench-build/plain and bench-build/sanity (Release) with
# scripts/setup.sh. --json prints one JSON object instead of the table.
set -euo pipefail
cd "$(dirname "$0")/.."

json=false
args=()
for a in "$@"; do
	if [ "$a" = --json ]; then json=true; else args+=("$a"); fi
done
ops=${args[0]:-20000}
reps=${args[1]:-3}

for b in plain sanity; do
	extra=()
	[ $b = sanity ] && extra=(-DVM_SANITY=ON)
	bash scripts/setup.sh "bench-build/$b" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON \
		"${extra[@]}" >/dev/null
done

# Seconds (with ns) of one run of the model in build $1.
run_once() {
	local b=$1 t0 t1
	t0=$(date +%s%N)
	"bench-build/$b/tests/model/model" --seed 1 --ops "$ops" --every-call \
		--elf "bench-build/$b/tests/scenarios-exec/hello.elf" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

declare -A med min max
for b in plain sanity; do
	times=()
	for ((i = 0; i < reps; i++)); do times+=("$(run_once $b)"); done
	sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	med[$b]=${sorted[$((reps / 2))]}
	min[$b]=${sorted[0]}
	max[$b]=${sorted[$((reps - 1))]}
done
ratio=$(awk -v s="${med[sanity]}" -v p="${med[plain]}" 'BEGIN { printf "%.2f", s / p }')

if $json; then
	printf '{"benchmark":"sanity-slowdown","ops":%s,"reps":%s,' "$ops" "$reps"
	printf '"plain_ms":{"median":%s,"min":%s,"max":%s},' "${med[plain]}" "${min[plain]}" "${max[plain]}"
	printf '"sanity_ms":{"median":%s,"min":%s,"max":%s},' "${med[sanity]}" "${min[sanity]}" "${max[sanity]}"
	printf '"ratio":%s,"goal":3}\n' "$ratio"
	exit 0
fi
printf 'model test, seed 1, %s steps, check after every call, %s runs each\n' "$ops" "$reps"
printf '%-8s %10s %10s %10s\n' build "median ms" "min ms" "max ms"
for b in plain sanity; do
	printf '%-8s %10s %10s %10s\n' $b "${med[$b]}" "${min[$b]}" "${max[$b]}"
done
printf 'sanity build slowdown: %sx (goal: at most 3x)\n' "$ratio"
