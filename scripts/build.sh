#!/bin/sh
# Configures and builds QuantForge into ./build (Release with debug info, Ninja, 2 jobs by default).
set -eu
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$JOBS"
