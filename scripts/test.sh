#!/bin/bash
# test.sh: install what is missing, then build and run every test three
# ways: a plain build, an ASan/UBSan build, and a VM_SANITY build; then the
# fuzz build (clang, libFuzzer): each fuzzer for 60 s and its regression
# inputs (docs/fuzzing.md). Each build also compiles vm/ freestanding with
# -m32 (target freestanding_i386).
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
	local dir=$1
	shift
	echo "== $dir: building ($*)"
	bash scripts/setup.sh "$dir" "$@"
	echo "== $dir: testing"
	(cd "$dir" && ctest --output-on-failure -j "$(nproc)")
}

run build
run build-asan -DVM_ASAN=ON
run build-sanity -DVM_SANITY=ON
run build-fuzz -DVM_FUZZ=ON -DCMAKE_C_COMPILER=clang
echo "== all test builds passed"
