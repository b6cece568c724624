#!/bin/sh
# Installs dependencies, builds everything and runs the whole test suite (ctest). Needs nothing outside the repository.
# Tests and benchmarks are switched on explicitly, because build/ may have been configured without
# them before (scripts/demo.sh does so to build faster), and CMake keeps such options in its cache.
# ctest fails, instead of passing quietly, when it finds no test. The container label (the Docker image
# smoke test, scripts/docker_smoke.sh) is left out: it needs podman and is run on its own.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DQF_BUILD_TESTS=ON -DQF_BUILD_BENCH=ON
cd build && ctest --output-on-failure --no-tests=error -j "${JOBS:-2}" --label-exclude container
