#!/usr/bin/env bash
# The main job until the planner exists: generate a synthetic flat-pool
# workload with `rackscale gen`, simulate it under FIFO and EASY backfilling,
# and print both summaries. Needs nothing outside the repository.
# Usage: scripts/run-example.sh [path/to/rackscale] ; outputs under out/example/.
set -euo pipefail
BIN=${1:-build/rackscale}
OUT=${OUT:-out/example}
mkdir -p "$OUT"
"$BIN" gen flat --jobs 100000 --slots 4096 --load 0.9 --seed 2025 --out "$OUT/workload.csv"
echo "Workload: 100,000 synthetic jobs (rackscale gen flat --slots 4096 --load 0.9 --seed 2025)"
echo
for policy in fifo easy; do
  "$BIN" sim --cluster flat:4096 --policy "$policy" --trace "$OUT/workload.csv" --out "$OUT/$policy"
  echo
done
field() { grep -o "\"$2\": [0-9.e+-]*" "$OUT/$1/summary.json" | awk '{print $2}'; }
awk -v fu="$(field fifo utilization)" -v eu="$(field easy utilization)" \
    -v fw="$(field fifo mean_wait)" -v ew="$(field easy mean_wait)" 'BEGIN{
  printf "EASY backfilling vs FIFO: utilization %.1f%% vs %.1f%%, mean wait %.1f h vs %.1f h\n",
         100*eu, 100*fu, ew/3600, fw/3600}'
echo "Per-job results: $OUT/{fifo,easy}/jobs.csv; metrics: $OUT/{fifo,easy}/summary.json"
