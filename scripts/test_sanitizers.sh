#!/bin/sh
# The unit tests (`ctest -L unit`) built with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DQF_SANITIZE=ON) in their own build folder, build-asan/, and run there; any report fails the run.
# Only what the unit tests need is built (the qf_unit_tests target: no quantforge executable, no
# benchmarks). Extra arguments go to the CMake configure step (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache).
# Env: JOBS (default 2), QF_ASAN_BUILD_DIR (default build-asan).
#
# Runtime options (tests/README.md explains them):
#   ASan:  halt_on_error=1; leaks are checked (detect_leaks=1) with tests/sanitizers/lsan.supp (empty
#          so far; for LibTorch's own process-lifetime allocations only); allocator_may_return_null=1
#          because a test asks LibTorch for 4 PiB on purpose and checks the out-of-memory message.
#   UBSan: halt_on_error=1 with a stack trace; tests/sanitizers/ubsan.supp lists what is suppressed.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS="${JOBS:-2}"
BUILD="${QF_ASAN_BUILD_DIR:-build-asan}"
scripts/setup.sh

t0=$(date +%s)
# -O1 -g1: sanitizer builds want a little optimisation and line tables, not full debug info.
cmake -G Ninja -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DQF_SANITIZE=ON -DQF_BUILD_TESTS=ON -DQF_BUILD_BENCH=OFF "$@" \
  >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target qf_unit_tests
t1=$(date +%s)

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/tests/sanitizers/ubsan.supp"
status=0
(cd "$BUILD" && ctest -L unit --output-on-failure --no-tests=error -j "$JOBS") || status=$?
t2=$(date +%s)
echo "sanitizer build: $((t1 - t0)) s, unit tests under ASan+UBSan: $((t2 - t1)) s"
exit "$status"
