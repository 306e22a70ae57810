#!/usr/bin/env bash
# A single-node SLURM cluster started by hand (no systemd), for CI and for
# trying `asla slurm` on one machine. Needs root and Debian's `slurm-wlm` and
# `munge` packages (apt-get install -y slurm-wlm munge).
#
#   scripts/slurm-cluster.sh start    # munged + slurmctld + slurmd; waits until the node is idle
#   scripts/slurm-cluster.sh stop     # stops the daemons this script started
#   scripts/slurm-cluster.sh status   # exit 0 when the controller answers and the node is usable
#
# Environment:
#   ASLA_SLURM_STATE  state/log directory (default /tmp/asla-slurm)
#   SLURM_CONF        where to write slurm.conf (default /etc/slurm/slurm.conf; an
#                     existing file not written by this script is never overwritten)
#   ASLA_SLURM_CPUS   CPUs to declare for the node (default: what slurmd -C detects;
#                     more than the machine has oversubscribes via config_overrides)
#
# What containers need (measured): cgroup plugins fail, so proctrack/linuxproc,
# task/none, jobacct_gather/none, accounting_storage/none; select/cons_tres with
# CR_CPU, else array tasks run one at a time; batch_sched_delay=0; munged runs as
# user munge with /run/munge and a key owned by munge, mode 0400; slurmd runs as
# root and with SlurmUser=root the state directory can be anywhere writable;
# RealMemory must not exceed the machine's or the node is drained; without
# slurmdbd there is no sacct, so jobcomp/filetxt logs each task's end.
set -euo pipefail

STATE=${ASLA_SLURM_STATE:-/tmp/asla-slurm}
CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
MARK='# written by asla scripts/slurm-cluster.sh'
export SLURM_CONF=$CONF

die() { echo "slurm-cluster: $*" >&2; exit 1; }

need() {
  for c in munged slurmctld slurmd scontrol sinfo; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] ||
      die "$c not found: apt-get install -y slurm-wlm munge"
  done
  [ "$(id -u)" = 0 ] || die "must run as root (slurmd needs it)"
}

# the controller answers and the node is up (not down/drained)
ready() {
  timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
  local st
  st=$(timeout 5 sinfo -h -N -o '%t' 2>/dev/null | head -n1) || return 1
  case "$st" in idle|mix|alloc|comp*) return 0 ;; *) return 1 ;; esac
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  chmod 0700 /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  if [ -S /run/munge/munge.socket.2 ] && munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    return 0 # a munged already answers
  fi
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "munged did not start (see /var/log/munge/munged.log)"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; set SLURM_CONF to another path"
  fi
  mkdir -p "$(dirname "$CONF")" "$STATE/ctld" "$STATE/d"
  local host detected cpus mem overrides=''
  host=$(hostname -s)
  detected=$(/usr/sbin/slurmd -C | head -n1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$detected")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$detected")
  # a little below what slurmd detects, so the node is never drained for low memory
  mem=$(( mem > 1024 ? mem - 256 : mem ))
  if [ -n "${ASLA_SLURM_CPUS:-}" ]; then
    overrides=$'\nSlurmdParameters=config_overrides'
    cpus=$ASLA_SLURM_CPUS
  fi
  cat >"$CONF" <<EOF
$MARK
ClusterName=asla
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
Waittime=0$overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  need
  # (a ping without a controller hangs for seconds: ask only when one may be running)
  if { alive "$STATE/slurmctld.pid" || pgrep -x slurmctld >/dev/null; } && ready; then
    echo "slurm-cluster: already running ($CONF)"
    return 0
  fi
  start_munge
  write_conf
  alive "$STATE/slurmctld.pid" || /usr/sbin/slurmctld -f "$CONF"
  alive "$STATE/slurmd.pid" || /usr/sbin/slurmd -f "$CONF"
  # cold start to an idle node takes about a second
  for _ in $(seq 300); do
    if ready; then
      echo "slurm-cluster: up ($CONF, logs in $STATE)"
      return 0
    fi
    # a node left down/drained by an earlier run is returned to service
    timeout 5 scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 0.2
  done
  tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
  die "the node did not become idle within 60 s"
}

stop_pid() {
  local f=$1 pid
  alive "$f" || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  stop_pid "$STATE/slurmd.pid"
  stop_pid "$STATE/slurmctld.pid"
  # munged writes its pid file in /run/munge
  stop_pid /run/munge/munged.pid
  echo "slurm-cluster: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) ready && echo "slurm-cluster: up" || { echo "slurm-cluster: not running"; exit 1; } ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
