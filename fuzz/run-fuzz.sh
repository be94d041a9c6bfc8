#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 15) from the seed corpus in fuzz/corpus/. Crashes are
# written to build-fuzz/artifacts/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-15}
BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRACKSCALE_FUZZ=ON -DRACKSCALE_TESTS=OFF -DRACKSCALE_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD" -j 2 --target fuzz_swf fuzz_philly fuzz_native_csv fuzz_trace_auto fuzz_openb fuzz_toml fuzz_ai_csv fuzz_llm fuzz_scenario
mkdir -p "$BUILD/artifacts"
for t in swf philly native_csv trace_auto openb toml ai_csv llm scenario; do
  work="$BUILD/corpus/$t"
  mkdir -p "$work"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=5 \
    -artifact_prefix="$BUILD/artifacts/$t-" -print_final_stats=1 "$work" "fuzz/corpus/$t" \
    2>"$BUILD/fuzz-$t.log" || { tail -40 "$BUILD/fuzz-$t.log"; echo "fuzz: $t FAILED"; exit 1; }
  grep -E 'stat::number_of_executed_units|Done' "$BUILD/fuzz-$t.log" | tail -1
done
echo "fuzz: all targets ran clean"
