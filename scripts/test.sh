#!/bin/sh
# Installs dependencies, builds everything and runs the test suite (ctest). Needs no ../shared.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build && ctest --output-on-failure -j "${JOBS:-2}"
