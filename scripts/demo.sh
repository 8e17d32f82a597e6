#!/bin/bash
# demo.sh: install what is missing, build, and run the example scenarios on
# the hosted machine; each prints its processes' regions with `dump`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build
for f in examples/*.scn; do
	echo "== vm run $f"
	build/vm run "$f"
done
