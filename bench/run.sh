#!/bin/bash
# run.sh [VMBENCH OPTIONS]: build what the benchmarks need and run them.
#
# Builds bench-build/plain and bench-build/sanity (-DVM_SANITY=ON), both
# Release, with scripts/setup.sh (which installs missing packages), then
# runs the plain build's vmbench, giving it both builds' model test for
# the VM_SANITY build's slowdown. Options go to vmbench: --reps N,
# --quick, --json, --only GROUP,... (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."

for b in plain sanity; do
	extra=()
	[ $b = sanity ] && extra=(-DVM_SANITY=ON)
	bash scripts/setup.sh "bench-build/$b" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" >/dev/null
done
exec bench-build/plain/bench/vmbench \
	--sanity-model bench-build/plain/tests/model/model bench-build/sanity/tests/model/model "$@"
