#!/usr/bin/env bash
# The flat-pool scale benchmark (issue: 1,000,000 jobs on flat:100000 with
# EASY in at most 3 s wall and 1 GiB peak memory, parsing and writing
# included). Runs, side by side and interleaved so that machine noise hits
# all alike:
#   easy  rackscale sim --policy easy   (parse, simulate, write jobs.csv + summary)
#   fifo  rackscale sim --policy fifo
#   awk   one plain text pass over the same input writing a jobs.csv-shaped
#         file (the floor for any tool that reads and writes these bytes)
# and prints the median wall time, peak RSS, jobs/s, simulated seconds per
# wall second, and the ratio to the awk pass. Then the fleet, the FGD pack
# experiment, the planner (its micro-benchmarks and a timed `rackscale run`
# of scenarios/reallocation-2025.toml), and the other micro-benchmarks.
#
# Usage: bench/run-bench.sh [BUILD_DIR] ; env: JOBS (1000000), SLOTS (100000),
# LOAD (0.9), REPS (5), FLEET (1: the fleet runs), PLAN (1: the planner),
# MICRO (1 to also run the other rackscale_bench benchmarks), PLAN_SCALING (1: the
# planner's scaling table, bench/plan_scaling.cc), PLAN_SCALING_REPS (3),
# FGD_SCALE (1: GPU-sharing placement at 310k nodes, below), FGD_REPLICAS (256),
# FGD_OLD (a second rackscale binary to time side by side on the openb pod list,
# e.g. one built from an older commit), FGD_PODS_X (0: also the pod list
# replicated that many times, e.g. 256 for the same load per node).
set -euo pipefail
TRACES=${RACKSCALE_TRACES:-$(cd "$(dirname "$0")/../.." && pwd)/shared/traces}
BUILD=${1:-build}
BIN=$BUILD/rackscale
JOBS=${JOBS:-1000000}
SLOTS=${SLOTS:-100000}
LOAD=${LOAD:-0.9}
REPS=${REPS:-5}
MICRO=${MICRO:-1}
WORK=$(mktemp -d /tmp/rackscale-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" gen flat --jobs "$JOBS" --slots "$SLOTS" --load "$LOAD" --seed 1 --out "$WORK/w.csv"
echo "workload: rackscale gen flat --jobs $JOBS --slots $SLOTS --load $LOAD --seed 1 ($(du -h "$WORK/w.csv" | cut -f1))"

run_one() {  # name -> appends "seconds maxrss_kb" to $WORK/name.t
  local name=$1
  case $name in
    easy|fifo)
      /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" sim --cluster "flat:$SLOTS" --policy "$name" \
        --trace "$WORK/w.csv" --out "$WORK/out-$name" -q ;;
    awk)
      /usr/bin/time -f "%e %M" -o "$WORK/t" mawk -F, 'NR==1{print "id,submit,start,end,size,status"; next}
        {print $1 "," $2 "," $2 "," $2+$3 "," $4 ",done"}' "$WORK/w.csv" > "$WORK/awk.csv" ;;
  esac
  cat "$WORK/t" >> "$WORK/$name.t"
}
for ((r = 0; r < REPS; r++)); do
  for name in easy fifo awk; do run_one "$name"; done
done

median() { sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
awk_med=$(cut -d' ' -f1 "$WORK/awk.t" | median)
makespan_of() { grep -o '"makespan": [0-9]*' "$WORK/out-$1/summary.json" | grep -o '[0-9]*$'; }
printf "\n%-6s %10s %10s %12s %16s %10s\n" run "median s" "peak MiB" "jobs/s" "sim s / wall s" "x awk"
for name in easy fifo awk; do
  med=$(cut -d' ' -f1 "$WORK/$name.t" | median)
  rss=$(cut -d' ' -f2 "$WORK/$name.t" | sort -n | tail -1)
  makespan=0; [ "$name" = awk ] || makespan=$(makespan_of "$name")
  awk -v n="$name" -v m="$med" -v r="$rss" -v j="$JOBS" -v a="$awk_med" -v ms="$makespan" 'BEGIN{
    printf "%-6s %10.2f %10.0f %12.0f %16.3g %10.2f\n", n, m, r/1024, j/m, (n=="awk") ? 0 : ms/m, m/a}'
done
echo "(medians of $REPS interleaved runs; peak = max RSS over the runs)"
# The fleet benchmark (issue: a 500,000-GPU fleet plus 2,000,000 CPU cores,
# 1,000,000 synthetic AI jobs over a simulated year, fairshare + topo, one
# tenant with a 100,000-GPU dedicated cluster: at most 60 s and 4 GiB).
if [ "${FLEET:-1}" = 1 ]; then
  echo
  "$BIN" gen ai --jobs 1000000 --days 365 --tenants 16 --seed 3 --gang-fraction 0.01 \
    --load 0.8 --gpus 504000 --out "$WORK/ai.csv"
  echo "fleet workload: rackscale gen ai --jobs 1000000 --days 365 --tenants 16 --seed 3 --gang-fraction 0.01 --load 0.8 --gpus 504000"
  for ((r = 0; r < ${FLEET_REPS:-3}; r++)); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" sim --cluster examples/fleet-500k.toml \
      --tenants examples/tenants-500k.toml --policy fairshare --placement topo \
      --trace "$WORK/ai.csv" --out "$WORK/fleet" -q
    cat "$WORK/t" >> "$WORK/fleet.t"
  done
  med=$(cut -d' ' -f1 "$WORK/fleet.t" | median)
  echo "fleet: median $med s wall over ${FLEET_REPS:-3} runs, peak $(cut -d' ' -f2 "$WORK/fleet.t" | sort -n | tail -1) KB"
  grep -E '^  "(simulated_events|placement_decisions|gpu_utilization|events_per_second|decision_p50_us|decision_p99_us|sim_seconds|wall_seconds)"' "$WORK/fleet/summary.json" | sed 's/^/  /'
  # The same year under EASY backfilling (one run: reservations walk the
  # running jobs, so it costs more than fairshare).
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" sim --cluster examples/fleet-500k.toml \
    --tenants examples/tenants-500k.toml --policy easy --placement topo \
    --trace "$WORK/ai.csv" --out "$WORK/fleet-easy" -q
  echo "fleet easy: $(cut -d' ' -f1 "$WORK/t") s wall, peak $(cut -d' ' -f2 "$WORK/t") KB"
  grep -m1 -E '"mean_wait"' "$WORK/fleet-easy/summary.json" | sed 's/^/  easy /'
  grep -m1 -E '"mean_wait"' "$WORK/fleet/summary.json" | sed 's/^/  fairshare /'

  # Scale targets (issue 13): 1,000,000 jobs on the 504k fleet with node
  # failures, Young/Daly checkpoints and throttling in at most 20 s and
  # 1 GiB; at most 1.2x the time per job per doubling of jobs (500,000 jobs
  # over half the year, the same arrival rate and load, against 1,000,000);
  # and the 2,016,000-GPU fleet (examples/fleet-2m.toml, 80M CPU-node
  # cores) running 1,000,000 jobs with failures in at most 60 s and 4 GiB.
  # Medians of FLEET_REPS interleaved runs; peak = max RSS over them.
  "$BIN" gen ai --jobs 500000 --days 4380h --tenants 16 --seed 3 --gang-fraction 0.01 \
    --load 0.8 --gpus 504000 --out "$WORK/ai-half.csv"
  "$BIN" gen ai --jobs 1000000 --days 365 --tenants 16 --seed 3 --gang-fraction 0.01 \
    --load 0.8 --gpus 2016000 --out "$WORK/ai-2m.csv"
  FAIL_ARGS=(--failures --checkpoint auto --checkpoint-cost 2m --restart-cost 10m --power throttle)
  scale_run() {  # name fleet trace
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" sim --cluster "examples/$2" \
      --tenants examples/tenants-500k.toml --policy fairshare --placement topo \
      --trace "$3" "${FAIL_ARGS[@]}" --out "$WORK/scale-$1" -q
    cat "$WORK/t" >> "$WORK/scale-$1.t"
  }
  for ((r = 0; r < ${FLEET_REPS:-3}; r++)); do
    scale_run fail-1m fleet-500k.toml "$WORK/ai.csv"
    scale_run fail-500k fleet-500k.toml "$WORK/ai-half.csv"
    scale_run fail-2m fleet-2m.toml "$WORK/ai-2m.csv"
  done
  printf "\n%-28s %10s %10s %8s\n" "scale run" "median s" "peak MiB" "target"
  for spec in "fail-1m:504k fleet, 1M jobs, failures:20 s, 1024 MiB" \
              "fail-500k:504k fleet, 500k jobs, failures:-" \
              "fail-2m:2M-GPU fleet, 1M jobs, failures:60 s, 4096 MiB"; do
    IFS=: read -r name label target <<< "$spec"
    med=$(cut -d' ' -f1 "$WORK/scale-$name.t" | median)
    rss=$(cut -d' ' -f2 "$WORK/scale-$name.t" | sort -n | tail -1)
    printf "%-28s %10.2f %10.0f   %s\n" "$label" "$med" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$target"
  done
  awk -v a="$(cut -d' ' -f1 "$WORK/scale-fail-500k.t" | median)" -v b="$(cut -d' ' -f1 "$WORK/scale-fail-1m.t" | median)" \
    'BEGIN{printf "doubling 500k -> 1M jobs: time x%.2f, per job x%.2f (target: per job <= 1.2)\n", b/a, b/a/2}'

  # The fleet over time (issue 4): the same year with node failures at the
  # default rate, Young/Daly checkpoints, power caps throttling, and 50
  # inference services on the Azure conversation trace (needs the traces).
  if [ -f "$TRACES/llm/AzureLLMInferenceTrace_conv.csv" ]; then
    cp examples/tenants-500k.toml "$WORK/tenants-inf.toml"
    cat >> "$WORK/tenants-inf.toml" <<EOT

[[tenants]]
name = "inference"
weight = 4
on_demand_usd_per_gpu_hour = 6.0

[[services]]
name = "chat"
tenant = "inference"
trace = "$TRACES/llm/AzureLLMInferenceTrace_conv.csv"
scale = 500
gpus_per_replica = 8
tokens_per_s_per_replica = 96000
min_replicas = 2
max_replicas = 200
count = 50
stagger_hours = 0.5
EOT
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" sim --cluster examples/fleet-500k.toml \
      --tenants "$WORK/tenants-inf.toml" --policy fairshare --trace "$WORK/ai.csv" \
      --failures --checkpoint auto --checkpoint-cost 2 --restart-cost 10 --power throttle \
      --out "$WORK/fleet-time" -q
    echo "fleet over time: $(cut -d' ' -f1 "$WORK/t") s wall, peak $(cut -d' ' -f2 "$WORK/t") KB"
    grep -E '^  "(makespan|simulated_events|events_per_second|sim_seconds|node_failures|interruptions|ettr|energy_mwh|inference_slo_attainment)"' \
      "$WORK/fleet-time/summary.json" | sed 's/^/  /'
    awk -F'[:,]' '/"makespan"/{m=$2} /"sim_seconds"/{s=$2} END{printf "  simulated-to-wall ratio: %.0f\n", m/s}' \
      "$WORK/fleet-time/summary.json"
    cut -d, -f1,2,4,14 "$WORK/fleet-time/sites.csv" | sed 's/^/  /'
  else
    echo "fleet over time: skipped (no Azure LLM trace under $TRACES; see scripts/fetch-traces.sh)"
  fi
fi

# The FGD paper's experiment: all six policies x 10 seeds (60 runs), timed
# as one command (reading the trace once), when the openb trace is at hand.
if [ -f "$TRACES/openb/openb_pod_list_default.csv" ]; then
  echo
  for ((r = 0; r < 3; r++)); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" pack --nodes "$TRACES/openb/openb_node_list_gpu_node.csv" \
      --pods "$TRACES/openb/openb_pod_list_default.csv" --policy all --seed 42-51 --out "$WORK/pack" -q
    cat "$WORK/t" >> "$WORK/pack.t"
  done
  med=$(cut -d' ' -f1 "$WORK/pack.t" | median)
  echo "pack: 60 runs (6 policies x seeds 42-51) median $med s over 3 reps = $(awk -v m="$med" 'BEGIN{printf "%.3f", m/60}') s per run; peak $(cut -d' ' -f2 "$WORK/pack.t" | sort -n | tail -1) KB"
  awk -F, 'NR>1{s[$1]+=$3; n[$1]++} END{for (p in s) printf "  %-14s mean unallocated GPU at 100%% arrived: %.2f%%\n", p, s[p]/n[p]}' "$WORK/pack/runs.csv" | sort
else
  echo "pack: skipped (no openb trace under $TRACES; see scripts/fetch-traces.sh)"
fi

# GPU-sharing placement at fleet scale (issue 13: `rackscale sim --placement
# fgd` on 310k openb-like nodes in at most 50 µs per decision and 500 MB):
# the openb GPU node list replicated FGD_REPLICAS times (256: 310,528 nodes,
# written to the temp dir), the openb default pod list over time. Prints each
# binary's per-decision figures from summary.json (Choose + Commit, every
# decision) and its peak RSS; with FGD_OLD, that binary runs too, interleaved.
if [ "${FGD_SCALE:-1}" = 1 ] && [ -f "$TRACES/openb/openb_pod_list_default.csv" ]; then
  echo
  R=${FGD_REPLICAS:-256}
  awk -F, -v R="$R" 'NR==1{print; next} {a[++n]=$0} END{for (r = 0; r < R; r++) for (i = 1; i <= n; i++) {
      k = index(a[i], ","); printf "r%d-%s%s\n", r, substr(a[i], 1, k - 1), substr(a[i], k)}}' \
    "$TRACES/openb/openb_node_list_gpu_node.csv" > "$WORK/nodes-big.csv"
  pods_in=("$TRACES/openb/openb_pod_list_default.csv")
  if [ "${FGD_PODS_X:-0}" -gt 1 ]; then
    # The pod list replicated: the same load per node as on the 1,213 nodes.
    awk -F, -v R="$FGD_PODS_X" 'NR==1{print; next} {a[++n]=$0} END{for (i = 1; i <= n; i++) for (r = 0; r < R; r++) {
        k = index(a[i], ","); printf "%s-x%d%s\n", substr(a[i], 1, k - 1), r, substr(a[i], k)}}' \
      "$TRACES/openb/openb_pod_list_default.csv" > "$WORK/pods-x.csv"
    pods_in+=("$WORK/pods-x.csv")
  fi
  bins=("new:$BIN")
  [ -n "${FGD_OLD:-}" ] && bins=("old:$FGD_OLD" "${bins[@]}")
  echo "fgd at scale: $(($(wc -l < "$WORK/nodes-big.csv") - 1)) nodes (openb GPU node list x $R)"
  printf "  %-4s %-34s %9s %9s %9s %9s %9s %9s\n" bin pods decisions "mean us" "p50 us" "p99 us" "sim s" "peak MB"
  for pods in "${pods_in[@]}"; do
    for b in "${bins[@]}"; do
      name=${b%%:*}; bin=${b#*:}
      # The old per-kind node trees take minutes on the replicated pod list.
      [ "$name" = old ] && [ "$pods" != "${pods_in[0]}" ] && continue
      /usr/bin/time -f "%e %M" -o "$WORK/t" "$bin" sim --cluster "$WORK/nodes-big.csv" --placement fgd \
        --trace "$pods" --out "$WORK/fgd-$name" -q
      awk -v n="$name" -v p="$(basename "$pods") ($(($(wc -l < "$pods") - 1)))" -v rss="$(cut -d' ' -f2 "$WORK/t")" -F'[:,]' '
        /"placement_decisions"/{d=$2} /"decision_mean_us"/{m=$2} /"decision_p50_us"/{p50=$2}
        /"decision_p99_us"/{p99=$2} /"sim_seconds"/{s=$2}
        END{printf "  %-4s %-34s %9d %9.1f %9.1f %9.1f %9.2f %9.0f\n", n, p, d, m, p50, p99, s, rss/1024}' \
        "$WORK/fgd-$name/summary.json"
      # A binary without decision timing in summary.json: mean = sim_seconds / pods placed.
      grep -q '"placement_decisions"' "$WORK/fgd-$name/summary.json" ||
        echo "       ($name has no decision timing; sim_seconds covers the whole event loop)"
    done
    if [ -n "${FGD_OLD:-}" ] && [ "$pods" = "${pods_in[0]}" ]; then
      cmp -s "$WORK/fgd-old/jobs.csv" "$WORK/fgd-new/jobs.csv" && echo "  jobs.csv identical" || echo "  jobs.csv DIFFERS"
    fi
  done
fi

# The capacity planner (issue: the default scenario, 8 years monthly, 6 sites,
# 4 hardware types, planned within its time_limit_s of 10 s): the planner's
# micro-benchmarks (that scenario and scenarios/small.toml, read, turned into
# the program and solved), then the main job `rackscale run` on the default
# scenario timed end to end (plan, simulation of the planned fleet, report).
if [ "${PLAN:-1}" = 1 ]; then
  echo
  if [ -x "$BUILD/bench/rackscale_bench" ]; then
    "$BUILD/bench/rackscale_bench" --benchmark_filter=Plan
  else
    echo "plan micro-benchmarks: skipped (no $BUILD/bench/rackscale_bench)"
  fi
  # How the program grows: the default scenario scaled to 24-144 months and
  # 1-24 sites (root LP time, root and proved gaps, fitted exponents), on each
  # time axis side by side: by month, by quarter, and by month 2 years, by
  # quarter 2 years, then by year (docs/planner.md, How it grows).
  if [ "${PLAN_SCALING:-1}" = 1 ] && [ -x "$BUILD/bench/rackscale_plan_scaling" ]; then
    "$BUILD/bench/rackscale_plan_scaling" --reps "${PLAN_SCALING_REPS:-3}" --variants '-;axis:0,1000;axis:24,24'
  fi
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" run scenarios/reallocation-2025.toml --out "$WORK/run" -q
  echo "run: rackscale run scenarios/reallocation-2025.toml: $(cut -d' ' -f1 "$WORK/t") s wall, peak $(cut -d' ' -f2 "$WORK/t") KB"
  grep -E '^    "(optimal|gap|columns|integer_columns|wall_seconds)"|^  "(npv_usd|plan_npv_usd|first_full_month|peak_gpus_in_service)"' \
    "$WORK/run/summary.json" | sed 's/^ */  /'
fi

# The other micro-benchmarks (the planner's ran above).
if [ "$MICRO" = 1 ] && [ -x "$BUILD/bench/rackscale_bench" ]; then
  echo
  "$BUILD/bench/rackscale_bench" --benchmark_min_time=0.2 --benchmark_filter=-Plan
fi
