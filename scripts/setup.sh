#!/bin/bash
# setup.sh [BUILD_DIR [CMAKE_ARGS...]]: install what is missing (Debian
# packages) and build vmscope in BUILD_DIR (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake make gcc libc6-dev gcc-multilib libcmocka-dev libelf-dev libncurses-dev
	  gdb python3 qemu-system-x86 tmux clang-format libjson-c-dev
	  clang libclang-rt-14-dev) # the fuzz build: clang and libFuzzer

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || {
			echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
			exit 1
		}
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)" -- --no-print-directory
