#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + float-cast-overflow,
# every finding fatal) and runs each for FUZZ_SECONDS (default 15) from the
# seed corpus in fuzz/corpus/, with the dictionary in fuzz/dict/ where one
# fits. Crashes are written to build-fuzz/artifacts/ and fail the script.
# CI runs each target briefly; for a long run: make fuzz FUZZ_SECONDS=3600
# (or FUZZ_TARGETS="fleet_sim argv" to pick targets).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-15}
BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRACKSCALE_FUZZ=ON -DRACKSCALE_TESTS=ON -DRACKSCALE_BENCH=OFF >/dev/null
fi
TARGETS=${FUZZ_TARGETS:-swf philly native_csv trace_auto openb toml ai_csv llm scenario fleet_sim argv fleet_core api}
cmake --build "$BUILD" -j 2 --target $(for t in $TARGETS; do printf 'fuzz_%s ' "$t"; done)
mkdir -p "$BUILD/artifacts"
# Inputs up to 64 KiB: TOML nesting past the 64-level limit and whole small
# fleets fit (4 KiB could not reach the depth check).
for t in $TARGETS; do
  dict=()
  case $t in
    toml|scenario) dict=(-dict=fuzz/dict/toml.dict) ;;
    ai_csv) dict=(-dict=fuzz/dict/ai_csv.dict) ;;
    fleet_sim) dict=(-dict=fuzz/dict/toml.dict) ;;
    argv) dict=(-dict=fuzz/dict/argv.dict) ;;
    api) dict=(-dict=fuzz/dict/json.dict) ;;
  esac
  work="$BUILD/corpus/$t"
  mkdir -p "$work"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 -rss_limit_mb=4096 "${dict[@]}" \
    -artifact_prefix="$BUILD/artifacts/$t-" -print_final_stats=1 "$work" "fuzz/corpus/$t" \
    2>"$BUILD/fuzz-$t.log" || { tail -40 "$BUILD/fuzz-$t.log"; echo "fuzz: $t FAILED"; exit 1; }
  grep -E 'stat::number_of_executed_units|Done' "$BUILD/fuzz-$t.log" | tail -1
done
echo "fuzz: all targets ran clean"
