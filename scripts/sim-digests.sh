#!/usr/bin/env bash
# Prints a SHA-256 per output file of a matrix of fleet simulations (every
# queue policy, every power policy, failures with Young/Daly checkpoints,
# GPU shares, dedicated clusters, quotas, and the main job's simulation with
# its services, capacity dates and multi-site gangs). Run it before and after
# a change to the scheduler or the simulator: equal lines mean equal bytes.
#
# Usage: scripts/sim-digests.sh [BIN] ; env: QUICK=1 leaves out the main job.
set -euo pipefail
BIN=${1:-build/rackscale}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/rackscale-digests.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$BIN" gen ai --jobs 3000 --days 7 --tenants 3 --seed 11 --gang-fraction 0.01 --max-gang 256 \
  --load 0.7 --gpus 352 --share-fraction 0.2 -o "$WORK/small.csv"
"$BIN" gen ai --jobs 20000 --days 20 --tenants 8 --seed 7 --gang-fraction 0.005 --max-gang 4096 \
  --load 0.9 --gpus 20000 --preemptible-fraction 0.3 -o "$WORK/mixed.csv"
digest() {  # name dir
  for f in "$2"/*.csv "$2"/summary.json; do  # summary.json names the scratch folder and the checkout: left out
    [ -f "$f" ] && printf '%s %s %s\n' "$1" "$(basename "$f")" \
      "$(sed -e "s#$WORK#WORK#g" -e "s#$ROOT#ROOT#g" "$f" | sha256sum | cut -c1-16)"
  done
}
run() {  # name cluster tenants trace args...
  local name=$1 cluster=$2 tenants=$3 trace=$4
  shift 4
  "$BIN" sim --cluster "$ROOT/examples/$cluster" --tenants "$ROOT/examples/$tenants" --trace "$trace" \
    --out "$WORK/$name" --no-timing -q "$@"
  digest "$name" "$WORK/$name"
}
for p in fifo easy fairshare priority; do
  run "small-$p" small.toml tenants-small.toml "$WORK/small.csv" --policy "$p"
  run "mixed-$p" mixed.toml tenants-mixed.toml "$WORK/mixed.csv" --policy "$p"
done
run small-admit small.toml tenants-small.toml "$WORK/small.csv" --power admit
run small-fail small.toml tenants-small.toml "$WORK/small.csv" --failures --failure-rate 5 --seed 5 \
  --checkpoint auto --checkpoint-cost 2m --restart-cost 10m --power throttle
run mixed-fail mixed.toml tenants-mixed.toml "$WORK/mixed.csv" --failures --failure-rate 2 --seed 3 \
  --checkpoint auto --checkpoint-cost 2m --restart-cost 10m --power throttle
run mixed-easy-fail mixed.toml tenants-mixed.toml "$WORK/mixed.csv" --policy easy --failures \
  --failure-rate 2 --seed 4 --checkpoint 30m --checkpoint-cost 1m --power admit
if [ "${QUICK:-0}" != 1 ]; then
  "$BIN" run "$ROOT/scenarios/reallocation-2025.toml" --out "$WORK/run" -q > /dev/null
  for f in "$WORK"/run/sim/*.csv; do
    printf 'run %s %s\n' "$(basename "$f")" "$(sha256sum < "$f" | cut -c1-16)"
  done
fi
