#!/bin/sh
# Configures and builds QuantForge into ./build (Release, Ninja, 2 jobs by default). Release (-O3), as
# the Docker image and the benchmarks: the AVX-512 attention kernel ran 2.7x slower at RelWithDebInfo's -O2.
set -eu
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$JOBS"
