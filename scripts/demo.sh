#!/bin/sh
# The main job: installs dependencies, builds, and quantizes a copy of the bundled default model
# (tests/data/models/tiny-llama) with the default method. The copy lives in build/demo so the
# repository's fixture stays pristine.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DQF_BUILD_TESTS=OFF -DQF_BUILD_BENCH=OFF
rm -rf build/demo && mkdir -p build/demo && cp -r tests/data/models/tiny-llama build/demo/tiny-llama
METHOD="${QF_DEMO_METHOD:-}"
if [ -z "$METHOD" ]; then
  # AWQ is the default method once its plugin is built; until then the RTN example plugin runs.
  if build/bin/quantforge plugins describe awq >/dev/null 2>&1; then METHOD="--awq"; else METHOD="--recipe rtn"; fi
fi
# shellcheck disable=SC2086
build/bin/quantforge quantize build/demo/tiny-llama $METHOD
echo "demo: output written under build/demo/tiny-llama"
