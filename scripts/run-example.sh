#!/usr/bin/env bash
# The main job: `rackscale run` on the default scenario, the 2025
# payroll-to-compute reallocation (scenarios/reallocation-2025.toml). It
# plans power, hardware and cash month by month, re-plans across two
# sensitivity ranges, simulates the fleet the plan has in service when the
# contract's capacity is due, and writes report.html. Needs nothing outside
# the repository. Usage: scripts/run-example.sh [path/to/rackscale];
# outputs under out/reallocation-2025/.
set -euo pipefail
BIN=${1:-build/rackscale}
OUT=${OUT:-out/reallocation-2025}
"$BIN" run scenarios/reallocation-2025.toml --out "$OUT" \
  --vary 'hardware.*.usd_per_domain_scale=0.8:1.2' \
  --vary 'contracts.openai-aws.gpus_scale=0.5:1.5'
echo
echo "Open $OUT/report.html in a browser; the plan month by month is in $OUT/plan.csv."
echo "Other examples (flat pools, fleets, failures, Llama 3): scripts/run-examples-more.sh"
