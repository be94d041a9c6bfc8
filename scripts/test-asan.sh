#!/usr/bin/env bash
# Runs the test suite once under ASan + UBSan + float-cast-overflow (clang,
# every finding fatal). It shares build-fuzz with `make fuzz`: the libraries
# there are already built with those sanitizers (and libFuzzer's coverage
# instrumentation, which costs a little speed and changes nothing else).
# Left out, because under the sanitizers (10-20x slower) they would take most
# of CI's time and their code paths are covered by the unit tests that run:
# doc_samples and the Slurm test (they run the release binary in `make test`),
# the reproductions of published results and the default scenario's solve
# (PackExperiment, ScenarioGolden.Default*, RunWorkload), the property and
# random-fleet sweeps (PlanProperty, Verify.RandomFleets, DocsRanges), the
# browser tests (Chromium's time, not ours), and the two CLI tests that spawn
# hundreds of processes or inflate 700 MB. Everything else (200+ tests) runs,
# and the simulation matrix of sim_digests (without the main job's solve),
# whose digests must equal the release build's pinned ones: the sanitized
# clang binary gives the same bytes as the g++ one.
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
EXCLUDE='^(doc_samples|slurm_mc_array|sim_digests|ScenarioGolden\.Default.*|Browser.*|PackExperiment\..*|PlanProperty\..*'
EXCLUDE+='|Verify\.RandomFleets.*|DocsRanges\..*|RunWorkload\..*|CliFlags\.(EveryFlag|Untrusted).*|MonteCarlo.*Browser.*)$'
ctest --test-dir "$BUILD" --output-on-failure -j "${PARALLEL:-2}" -E "$EXCLUDE"
QUICK=1 ./scripts/sim-digests.sh "$BUILD/rackscale" > "$BUILD/sim-digests.txt"
if ! diff -u <(grep -v '^run ' tests/data/sim-digests.txt) "$BUILD/sim-digests.txt"; then
  echo "test-asan: the sanitized build's simulation outputs differ from tests/data/sim-digests.txt" >&2
  exit 1
fi
echo "test-asan: sim-digests matrix identical under the sanitizers ($(wc -l < "$BUILD/sim-digests.txt") outputs)"
