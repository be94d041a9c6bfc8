#!/usr/bin/env bash
# Runs the test suite once under ASan + UBSan + float-cast-overflow (clang,
# every finding fatal). It shares build-fuzz with `make fuzz`: the libraries
# there are already built with those sanitizers (and libFuzzer's coverage
# instrumentation, which costs a little speed and changes nothing else).
# doc_samples (a byte comparison of the docs' samples, run by `make test`) and
# the Slurm integration test are left out: they add minutes and no memory or
# UB coverage that the unit tests do not already give.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRACKSCALE_FUZZ=ON -DRACKSCALE_TESTS=ON -DRACKSCALE_BENCH=OFF >/dev/null
else
  cmake -S . -B "$BUILD" -DRACKSCALE_TESTS=ON >/dev/null
fi
cmake --build "$BUILD" -j "${PARALLEL:-2}" --target rackscale rackscale_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$BUILD" --output-on-failure -j "${PARALLEL:-2}" -E '^(doc_samples|slurm_mc_array)$'
