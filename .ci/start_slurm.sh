#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine for the tests (tests/test_slurm.py), as root:
# installs Debian's slurm-wlm and munge with apt if needed, writes /etc/slurm/slurm.conf for this host,
# makes a munge key, starts munged, slurmctld and slurmd, and waits until the node is idle.
# Skips (exit 0, one line saying why) where it cannot run: not root, no apt-get, or a Slurm
# configuration this script did not write (a real cluster is left alone). Running it again while the
# cluster is up does nothing.
set -uo pipefail
say() { echo "start_slurm.sh: $*"; }
conf=/etc/slurm/slurm.conf
marker="# written by pyspk .ci/start_slurm.sh"

if command -v sinfo >/dev/null && sinfo -h >/dev/null 2>&1; then
  say "a Slurm cluster is already up"; exit 0
fi
[ "$(id -u)" -eq 0 ] || { say "not root: skipped (the Slurm tests will skip)"; exit 0; }
if [ -f "$conf" ] && ! grep -qxF "$marker" "$conf"; then
  say "$conf was not written here: skipped (a real cluster is left alone)"; exit 0
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || { say "no apt-get: skipped (the Slurm tests will skip)"; exit 0; }
  say "installing slurm-wlm and munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y slurm-wlm munge || { apt-get update && apt-get install -y slurm-wlm munge; }; } \
    > /tmp/start_slurm.apt.log 2>&1 ||
    { say "apt-get install failed (see /tmp/start_slurm.apt.log): skipped"; exit 0; }
fi

host=$(hostname -s)
node=$(slurmd -C | head -n 1)   # NodeName=<host> CPUs=... Sockets/Cores/Threads ... RealMemory=<MB>
cpus=$(nproc)
memory=$(free -m | awk '/^Mem:/ {print $2}')
memory=$((memory - memory / 10))   # 10 % left for the daemons and the system
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
# GPUs for --gres=gpu:N: this machine's; on a machine without any, two placeholders (device nodes like
# /dev/null: jobs run on the CPU) so the tests can ask for GPUs and start two-process trainings.
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if [ "$gpus" -gt 0 ]; then
  gpu_files=/dev/nvidia[0-$((gpus - 1))]
else
  gpus=2 gpu_files=/var/spool/slurmd/placeholder-gpu[0-1]
  for i in 0 1; do
    [ -c /var/spool/slurmd/placeholder-gpu$i ] || mknod /var/spool/slurmd/placeholder-gpu$i c 1 3
  done
fi
echo "NodeName=$host Name=gpu File=$gpu_files" > /etc/slurm/gres.conf
cat > "$conf" <<EOF
$marker
ClusterName=pyspk
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((memory / cpus))
ReturnToService=2
SchedulerParameters=sched_interval=1
GresTypes=gpu
${node%% RealMemory=*} NodeAddr=127.0.0.1 RealMemory=$memory Gres=gpu:$gpus State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

if [ ! -s /etc/munge/munge.key ]; then
  mungekey -c -f -k /etc/munge/munge.key 2>/dev/null ||
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
pgrep -x munged >/dev/null || runuser -u munge -- munged ||
  { say "munged did not start (see /var/log/munge/munged.log)"; exit 1; }
pgrep -x slurmctld >/dev/null || slurmctld || { say "slurmctld did not start (see /var/log/slurm/slurmctld.log)"; exit 1; }
pgrep -x slurmd >/dev/null || slurmd || { say "slurmd did not start (see /var/log/slurm/slurmd.log)"; exit 1; }

for _ in $(seq 60); do
  state=$(sinfo -h -n "$host" -o %t 2>/dev/null | head -n 1)
  # a node drained by an earlier configuration returns to service
  [[ "$state" == drain* || "$state" == inval ]] && scontrol update NodeName="$host" State=RESUME 2>/dev/null
  [ "$state" = idle ] && { say "node $host idle ($cpus CPUs, $memory MB, $gpus GPUs)"; exit 0; }
  sleep 0.5
done
say "node $host not idle after 30 s (state '${state:-none}'; see /var/log/slurm/)"
exit 1
