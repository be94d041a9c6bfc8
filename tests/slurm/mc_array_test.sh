#!/usr/bin/env bash
# Integration test: a Monte-Carlo plan run as a Slurm array (scripts/slurm-mc.sh) on a
# real single-host Slurm (Debian's slurm-wlm and munge, started here as in
# ../shared/peers/slurm/HOWTO.md, in a scratch folder, on free ports, with its own munge
# key and socket), merged with `rackscale plan-merge`, must equal one local run byte for
# byte.
#
#   tests/slurm/mc_array_test.sh BIN        (ctest: slurm_mc_array)
#
# Exit 0 pass, 1 fail, 77 skipped (Slurm or munge not installed, or not root), with the
# reason; RACKSCALE_REQUIRE_SLURM=1 (CI) turns a skip into a failure. Daemons are stopped
# by their PIDs, and the scratch folder removed, however the test ends.
set -uo pipefail
BIN=$(realpath "${1:?usage: $0 RACKSCALE_BINARY}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
N=9 SEED=7 TASKS=3
SCENARIO=$SRC/scenarios/small.toml

skip() {
  if [ "${RACKSCALE_REQUIRE_SLURM:-0}" != "0" ] && [ -n "${RACKSCALE_REQUIRE_SLURM:-}" ]; then
    echo "FAIL: $1, and RACKSCALE_REQUIRE_SLURM is set" >&2
    exit 1
  fi
  echo "SKIPPED: $1"
  exit 77
}
missing=()
for f in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged; do [ -x "$f" ] || missing+=("$f"); done
for c in sbatch squeue sinfo mungekey runuser python3; do command -v "$c" >/dev/null || missing+=("$c"); done
[ ${#missing[@]} -eq 0 ] || skip "not installed: ${missing[*]} (install: apt-get install -y slurm-wlm munge, or scripts/install-deps.sh)"
[ "$(id -u)" -eq 0 ] || skip "needs root (munged runs as the munge user, slurmd launches the jobs)"
id munge >/dev/null 2>&1 || skip "no munge user (install: apt-get install -y munge)"

PEER=$(mktemp -d /tmp/rackscale-slurm.XXXXXX)
chmod 755 "$PEER"
mkdir -p "$PEER"/{state,spool,logs,pids,munge,out}
chown munge:munge "$PEER/munge"
chmod 711 "$PEER/munge"
export SLURM_CONF=$PEER/slurm.conf
pids=()
cleanup() {
  local p
  for p in $(cat "$PEER"/pids/slurmd.pid "$PEER"/pids/slurmctld.pid "$PEER"/munge/munged.pid "$PEER"/pids/munged.runuser.pid 2>/dev/null); do
    kill "$p" 2>/dev/null
  done
  for p in $(cat "$PEER"/pids/slurmd.pid "$PEER"/pids/slurmctld.pid "$PEER"/munge/munged.pid "$PEER"/pids/munged.runuser.pid 2>/dev/null); do
    for _ in $(seq 1 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$p" 2>/dev/null
  done
  if [ "${KEEP_PEER:-0}" = "1" ]; then echo "kept $PEER"; else rm -rf "$PEER"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1" >&2
  for f in "$PEER"/logs/* "$PEER"/out/*.out; do
    [ -f "$f" ] && { echo "--- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}
SECONDS=0

# Munge: a key of our own and a socket in the scratch folder, so nothing else on the host is touched.
runuser -u munge -- mungekey --create --keyfile="$PEER/munge/munge.key" >/dev/null 2>&1 || fail "mungekey failed"
nohup runuser -u munge -- /usr/sbin/munged -F --socket="$PEER/munge/munge.socket" --key-file="$PEER/munge/munge.key" \
  --pid-file="$PEER/munge/munged.pid" --log-file="$PEER/munge/munged.log" --seed-file="$PEER/munge/munged.seed" \
  --num-threads=4 >"$PEER/logs/munged.out" 2>&1 &
echo $! >"$PEER/pids/munged.runuser.pid"
for _ in $(seq 1 40); do [ -S "$PEER/munge/munge.socket" ] && break; sleep 0.25; done
[ -S "$PEER/munge/munge.socket" ] || { cp "$PEER/munge/munged.log" "$PEER/logs/" 2>/dev/null; fail "munged did not start"; }

# Two free ports.
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
HOST=$(hostname -s)
cat >"$SLURM_CONF" <<CONF
# A one-host Slurm for tests/slurm/mc_array_test.sh (no GRES).
ClusterName=rackscale-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
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
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
MinJobAge=2
MessageTimeout=30
NodeName=rsnode NodeHostname=$HOST NodeAddr=127.0.0.1 CPUs=4 Sockets=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN
PartitionName=main Nodes=rsnode Default=YES MaxTime=INFINITE State=UP
CONF
# As the HOWTO says: start them by these names (Slurm checks its program name).
nohup /usr/sbin/slurmctld -D -c -f "$SLURM_CONF" >/dev/null 2>&1 &
echo $! >"$PEER/pids/slurmctld.pid"
sleep 1
nohup /usr/sbin/slurmd -D -N rsnode -f "$SLURM_CONF" >/dev/null 2>&1 &
echo $! >"$PEER/pids/slurmd.pid"
state=""
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
  [ "$state" = "idle" ] && break
  sleep 0.5
done
[ "$state" = "idle" ] || fail "the node did not come up (state '$state')"

# The array: one slice of the N draws per task.
job=$(RACKSCALE="$BIN" sbatch --parsable --array=0-$((TASKS - 1)) --export=ALL -o "$PEER/out/task-%a.out" \
  "$SRC/scripts/slurm-mc.sh" "$SCENARIO" $N $SEED "$PEER/out") || fail "sbatch failed"
job=${job%%;*}
echo "submitted array job $job ($TASKS tasks, $N draws)"
for _ in $(seq 1 240); do
  [ -z "$(squeue -h -r -j "$job" -o %i 2>/dev/null)" ] && break
  sleep 0.25
done
[ -z "$(squeue -h -r -j "$job" -o %i 2>/dev/null)" ] && echo "array done" || fail "the array did not finish within 60 s"
for k in $(seq 0 $((TASKS - 1))); do
  [ -f "$PEER/out/slice-$k/mc_summary.json" ] || fail "task $k wrote no slice"
done

"$BIN" plan-merge -q --out "$PEER/merged" "$PEER"/out/slice-* || fail "plan-merge failed"
"$BIN" plan "$SCENARIO" --monte-carlo $N --seed $SEED -q --out "$PEER/local" || fail "the local run failed"
for f in mc_draws.csv mc_summary.json mc_report.html; do
  cmp "$PEER/local/$f" "$PEER/merged/$f" || fail "$f: the merged slices differ from the local run"
done
echo "PASS: $TASKS Slurm array tasks merged = one local run ($N draws, byte for byte), ${SECONDS} s"
