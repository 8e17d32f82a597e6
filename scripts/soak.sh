#!/bin/bash
# soak.sh [MINUTES]: the long soak of `vm serve --workload demo` with
# vmstat, vmtop and misbehaving clients (tests/soak/soak.py,
# docs/reliability.md). Brings BUILD (default: build) up to date first
# (scripts/setup.sh when it is not configured yet). Default 10 minutes on the demo's 64 MB machine;
# the memory curve and the figures go to BUILD/soak/. Environment:
# BUILD, SOAK_MEM (64M), SOAK_TICK (ms per demo step, 5), SOAK_CYCLE
# (steps per cycle, 2000), SOAK_SANITY (VM's check every N calls, 5000).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
build=${BUILD:-build}
if [ -f "$build/CMakeCache.txt" ]; then
	cmake --build "$build" -j "$(nproc)" >/dev/null # up to date with the sources
else
	bash scripts/setup.sh "$build"
fi
mkdir -p "$build/soak"
exec python3 tests/soak/soak.py --vm "$build/vm" --vmstat "$build/vmstat/vmstat" \
	--vmtop "$build/vmtop/vmtop" --seconds "$((minutes * 60))" \
	--mem "${SOAK_MEM:-64M}" --tick "${SOAK_TICK:-5}" --cycle "${SOAK_CYCLE:-2000}" \
	--sanity "${SOAK_SANITY:-5000}" \
	--curve "$build/soak/curve.txt" --json "$build/soak/figures.json"
