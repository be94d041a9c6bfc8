#!/usr/bin/env bash
# The control plane's throughput, side by side with Slurm 22.05 on this machine
# (issue: 1,000 emulated nodes of 8 GPUs, 100,000 jobs from 8 concurrent clients,
# loopback only). Runs, in one go:
#
#   rackscale  `rackscale serve` on a fresh SQLite file (examples/fleet-1000.toml,
#              8 tenants), `rackscale agent --emulate 1000`, and bench/ctl_load: 8
#              clients, one keep-alive connection each, submitting N_CTL jobs of 1 GPU
#              that run 0 s, each answered only once durable; then waits for the queue
#              to empty. Reports durable submissions/s, end-to-end jobs/s (first
#              submission to the last completion reported), scheduling decisions/s (the
#              server's counters), p50/p99 submit latency, commit batch sizes, and the
#              server's peak RSS.
#   slurm      Debian's slurmctld + slurmd + munged started in a scratch folder as
#              ../shared/peers/slurm/HOWTO.md does (its final config "D": 256 fake CPUs,
#              defer, batch_sched_delay=0, ...), and the peer's own submission pattern
#              for 8 parallel clients: `xargs -P 8 sbatch -Q -o /dev/null --wrap=true`,
#              N_SLURM jobs, then wait for squeue to empty.
#
# Usage: bench/ctl-vs-slurm.sh [BUILD_DIR]   env: N_CTL (100000), N_SLURM (5000),
#        CLIENTS (8), SLURM (1: run the Slurm side; needs root, slurm-wlm, munge).
# Prints a table and writes the raw figures to $OUT (default /tmp/ctl-vs-slurm.json).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
BIN=$BUILD/rackscale
LOAD=$BUILD/bench/ctl_load
N_CTL=${N_CTL:-100000}
N_SLURM=${N_SLURM:-5000}
CLIENTS=${CLIENTS:-8}
OUT=${OUT:-/tmp/ctl-vs-slurm.json}
[ -x "$BIN" ] && [ -x "$LOAD" ] || { echo "build first: $BIN and $LOAD (cmake --build $BUILD)" >&2; exit 2; }
T=$(mktemp -d /tmp/rackscale-ctl-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${PEER:-}" ] && slurm_stop
  rm -rf "$T"
}
trap cleanup EXIT

# --- rackscale -------------------------------------------------------------------------
{
  for k in $(seq 0 $((CLIENTS - 1))); do printf '[[tenants]]\nname = "t%d"\n' "$k"; done
} >"$T/tenants.toml"
"$BIN" serve --fleet "$SRC/examples/fleet-1000.toml" --tenants "$T/tenants.toml" --db "$T/ctl.db" \
  --listen 127.0.0.1:0 --port-file "$T/port" --node-timeout 60s -q &
SERVER=$!
pids+=($SERVER)
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat "$T/port")
ADMIN=$(cat "$T/ctl.db.admin-token")
api() { curl -sf -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' "$@"; }
token() { api -X POST "$URL/v1/tokens" -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
AGENT=$(token '{"role":"agent","agent":"emu"}')
TOKENS=()
for k in $(seq 0 $((CLIENTS - 1))); do TOKENS+=(--token "$(token "{\"role\":\"tenant\",\"tenant\":\"t$k\"}")"); done
"$BIN" agent --server "$URL" --token "$AGENT" --emulate 1000 --state-dir "$T/agent" --log-dir "$T/logs" \
  --heartbeat 5s 2>"$T/agent.log" &
pids+=($!)
for _ in $(seq 1 200); do
  up=$(api "$URL/v1/nodes" | python3 -c 'import json,sys; print(sum(n["state"]=="up" for n in json.load(sys.stdin)["nodes"]))')
  [ "$up" = 1000 ] && break
  sleep 0.1
done
[ "$up" = 1000 ] || { echo "only $up of 1000 emulated nodes came up" >&2; exit 1; }
metric() { api "$URL/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
d0=$(metric rackscale_scheduler_decisions_total)
c0=$(metric rackscale_commits_total)
e0=$(metric rackscale_events_total)
echo "rackscale: $N_CTL jobs from $CLIENTS clients on 1,000 emulated nodes x 8 GPUs" >&2
"$LOAD" --server "$URL" "${TOKENS[@]}" --admin-token "$ADMIN" --jobs "$N_CTL" --clients "$CLIENTS" --wait \
  >"$T/load.json"
d1=$(metric rackscale_scheduler_decisions_total)
c1=$(metric rackscale_commits_total)
e1=$(metric rackscale_events_total)
p1=$(metric rackscale_scheduler_passes_total)
ps1=$(metric rackscale_pass_seconds_total)
cq50=$(api "$URL/metrics" | awk '$1 == "rackscale_commit_seconds{quantile=\"0.5\"}" {print $2}')
cq99=$(api "$URL/metrics" | awk '$1 == "rackscale_commit_seconds{quantile=\"0.99\"}" {print $2}')
rss=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
integrity=$(sqlite3 "$T/ctl.db" 'PRAGMA integrity_check')
done_jobs=$(sqlite3 "$T/ctl.db" "select count(*) from jobs where state = 'succeeded'")

# --- Slurm ------------------------------------------------------------------------------
slurm_stop() {
  local p
  for p in $(cat "$PEER"/pids/* "$PEER"/munge/munged.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in $(cat "$PEER"/pids/* "$PEER"/munge/munged.pid 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$PEER"
  PEER=""
}
slurm='{}'
if [ "${SLURM:-1}" = 1 ]; then
  if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/munged ]; then
    echo "slurm: skipped (needs root, slurm-wlm and munge: scripts/install-deps.sh)" >&2
  else
    PEER=$(mktemp -d /tmp/rackscale-slurm-bench.XXXXXX)
    chmod 755 "$PEER"
    mkdir -p "$PEER"/{state,spool,logs,pids,munge}
    chown munge:munge "$PEER/munge"
    export SLURM_CONF=$PEER/slurm.conf
    runuser -u munge -- mungekey --create --keyfile="$PEER/munge/munge.key" >/dev/null 2>&1
    runuser -u munge -- /usr/sbin/munged -F --socket="$PEER/munge/munge.socket" --key-file="$PEER/munge/munge.key" \
      --pid-file="$PEER/munge/munged.pid" --log-file="$PEER/munge/munged.log" --seed-file="$PEER/munge/munged.seed" \
      --num-threads=10 >/dev/null 2>&1 &
    echo $! >"$PEER/pids/munged.runuser"
    for _ in $(seq 1 40); do [ -S "$PEER/munge/munge.socket" ] && break; sleep 0.25; done
    read -r CP DP < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
    # ../shared/peers/slurm/etc/slurm.conf (config "D"), on free ports and this folder; no GRES
    # (the peer's jobs ask for none).
    cat >"$SLURM_CONF" <<CONF
ClusterName=ctlbench
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CP
SlurmdPort=$DP
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$PEER/munge/munge.socket
StateSaveLocation=$PEER/state
SlurmdSpoolDir=$PEER/spool/%n
SlurmctldPidFile=$PEER/pids/slurmctld.pidfile
SlurmdPidFile=$PEER/pids/slurmd.pidfile
SlurmctldLogFile=$PEER/logs/slurmctld.log
SlurmdLogFile=$PEER/logs/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
PriorityType=priority/basic
SchedulerParameters=defer,batch_sched_delay=0,sched_min_interval=100000,default_queue_depth=1000,partition_job_depth=1000,sched_max_job_start=0,max_rpc_cnt=150,bf_continue,bf_interval=30,bf_max_job_test=100,bf_yield_interval=1000000
MaxJobCount=100000
MinJobAge=1
MessageTimeout=30
NodeName=vm NodeHostname=$(hostname -s) NodeAddr=127.0.0.1 CPUs=256 Sockets=1 CoresPerSocket=256 ThreadsPerCore=1 RealMemory=16000 State=UNKNOWN
PartitionName=main Nodes=vm Default=YES MaxTime=INFINITE State=UP
CONF
    /usr/sbin/slurmctld -D -c -f "$SLURM_CONF" >/dev/null 2>&1 &
    echo $! >"$PEER/pids/slurmctld"
    sleep 2
    /usr/sbin/slurmd -D -N vm -f "$SLURM_CONF" >/dev/null 2>&1 &
    echo $! >"$PEER/pids/slurmd"
    for _ in $(seq 1 60); do [ "$(sinfo -h -N -o '%T' 2>/dev/null | head -1)" = idle ] && break; sleep 0.5; done
    echo "slurm: $N_SLURM jobs from $CLIENTS parallel sbatch clients (the peer's pattern)" >&2
    t0=$(date +%s.%N)
    seq "$N_SLURM" | xargs -P "$CLIENTS" -n 1 sh -c 'sbatch -Q -o /dev/null --wrap=true >/dev/null || echo x >>'"$PEER"'/fail' _
    t1=$(date +%s.%N)
    while [ "$(squeue -h -t PD,R,CG,CF -r -o %i | wc -l)" -ne 0 ]; do sleep 0.2; done
    t2=$(date +%s.%N)
    fails=$(cat "$PEER/fail" 2>/dev/null | wc -l)
    slurm=$(python3 -c "
import json
n=$N_SLURM; t0,t1,t2=$t0,$t1,$t2
print(json.dumps({'jobs': n, 'fails': $fails, 'submit_wall_s': t1-t0, 'submissions_per_s': n/(t1-t0),
                  'e2e_wall_s': t2-t0, 'e2e_jobs_per_s': n/(t2-t0)}))")
    slurm_stop
  fi
fi

python3 - "$T/load.json" "$OUT" <<PY
import json, sys
load = json.load(open(sys.argv[1]))
slurm = json.loads('''$slurm''')
d = float("$d1") - float("$d0"); commits = float("$c1") - float("$c0"); events = float("$e1") - float("$e0")
r = {"rackscale": {**load, "decisions": d, "decisions_per_s": d / load["e2e_wall_s"],
                   "commits": commits, "events_per_commit": events / max(commits, 1),
                   "commit_p50_ms": float("$cq50") * 1e3, "commit_p99_ms": float("$cq99") * 1e3,
                   "passes": float("$p1"), "pass_seconds": float("$ps1"),
                   "server_peak_rss_mib": int("$rss") / 1024, "succeeded": int("$done_jobs"),
                   "integrity": "$integrity"},
     "slurm": slurm}
json.dump(r, open(sys.argv[2], "w"), indent=2)
a = r["rackscale"]
print(f"{'':34}{'rackscale':>14}{'slurm 22.05':>14}{'ratio':>8}")
def row(name, ours, theirs, fmt="{:.0f}"):
    t = fmt.format(theirs) if theirs is not None else "-"
    ratio = f"{ours / theirs:.1f}x" if theirs else "-"
    print(f"{name:34}{fmt.format(ours):>14}{t:>14}{ratio:>8}")
row("jobs", a["submitted"], slurm.get("jobs"))
row("durable submissions/s", a["submissions_per_s"], slurm.get("submissions_per_s"))
row("end-to-end jobs/s", a["e2e_jobs_per_s"], slurm.get("e2e_jobs_per_s"))
print(f"{'scheduling decisions/s':34}{a['decisions_per_s']:>14.0f}")
print(f"{'submit latency p50 / p99 (ms)':34}{a['latency_ms']['p50']:>9.2f} / {a['latency_ms']['p99']:.2f}")
print(f"{'commits (events per commit)':34}{a['commits']:>14.0f} ({a['events_per_commit']:.1f})")
print(f"{'commit latency p50 / p99 (ms)':34}{a['commit_p50_ms']:>9.2f} / {a['commit_p99_ms']:.2f}")
print(f"{'server peak RSS (MiB)':34}{a['server_peak_rss_mib']:>14.0f}")
print(f"{'jobs succeeded; integrity_check':34}{a['succeeded']:>14} {a['integrity']}")
if a["errors"]: print(f"errors: {a['errors']} ({a.get('first_error', '')})")
PY
