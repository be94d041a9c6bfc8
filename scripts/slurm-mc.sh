#!/usr/bin/env bash
# A Slurm array job for `rackscale plan --monte-carlo` (docs/planner.md, "Monte Carlo"):
# array task k of K plans draws floor(N k / K) .. floor(N (k+1) / K) - 1 into OUT/slice-k;
# `rackscale plan-merge --out OUT/merged OUT/slice-*` then writes the files one full run
# writes, byte for byte.
#
#   sbatch --array=0-9 --cpus-per-task=4 scripts/slurm-mc.sh SCENARIO N SEED OUT [plan flags...]
#   # when every task is done (or: sbatch --dependency=afterok:JOBID --wrap '...'):
#   rackscale plan-merge --out OUT/merged OUT/slice-*
#
# Each task runs --jobs $SLURM_CPUS_PER_TASK worker processes (1 if unset). $RACKSCALE is
# the binary (default: rackscale on PATH). Extra flags (--time-limit S, --solve-for payroll)
# go to every task and must be the same for all of them: plan-merge checks.
#SBATCH --job-name=rackscale-mc
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: sbatch --array=0-(K-1) $0 SCENARIO N SEED OUT [plan flags...]" >&2
  exit 2
fi
scenario=$1 n=$2 seed=$3 out=$4
shift 4
: "${SLURM_ARRAY_TASK_ID:?run me with sbatch --array=0-(K-1)}"
min=${SLURM_ARRAY_TASK_MIN:-0}
max=${SLURM_ARRAY_TASK_MAX:-$SLURM_ARRAY_TASK_ID}
k=$((SLURM_ARRAY_TASK_ID - min))
count=$((max - min + 1))
begin=$((n * k / count))
end=$((n * (k + 1) / count))
if [ "$begin" -ge "$end" ]; then
  echo "slurm-mc: task $k of $count has no draws (N = $n < $count tasks); nothing to do"
  exit 0
fi
exec "${RACKSCALE:-rackscale}" plan "$scenario" --monte-carlo "$n" --seed "$seed" --draws "$begin:$end" \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" --out "$out/slice-$k" -q "$@"
