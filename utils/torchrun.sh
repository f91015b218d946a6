#!/usr/bin/env bash
# Start one DDP training with N processes (one per GPU) on each node it runs on:
#   utils/torchrun.sh [--nproc-per-node N] -m pyspk.bin.train_cnn args...
# Inside a Slurm job (a command of utils/run_slurm.sh, e.g. with --num-nodes M): srun starts one
# torchrun on each of the job's nodes, all meeting at a c10d rendezvous on the job's first node, so
# M nodes x N processes form a single training (ranks from the rendezvous). Outside Slurm:
# torchrun --standalone on this machine.
set -euo pipefail
nproc_per_node=1
help_message="usage: $0 [--nproc-per-node N] -m module args..."
. "$(dirname "${BASH_SOURCE[0]}")/parse_options.sh"
[ $# -ge 1 ] || { echo "$help_message" >&2; exit 1; }

if [ -z "${SLURM_JOB_ID:-}" ]; then
  exec torchrun --standalone --nproc-per-node="$nproc_per_node" "$@"
fi
nodes=${SLURM_JOB_NUM_NODES:-1}
head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
port=$((20000 + SLURM_JOB_ID % 20000))   # differs between jobs that share a first node
echo "$0: $nodes node(s) x $nproc_per_node process(es), rendezvous at $head_node:$port"
exec srun --nodes="$nodes" --ntasks="$nodes" --ntasks-per-node=1 --kill-on-bad-exit=1 \
  ${SLURM_CPUS_PER_TASK:+--cpus-per-task="$SLURM_CPUS_PER_TASK"} \
  torchrun --nnodes="$nodes" --nproc-per-node="$nproc_per_node" --rdzv-backend=c10d \
  --rdzv-endpoint="$head_node:$port" --rdzv-id="$SLURM_JOB_ID" "$@"
