#!/usr/bin/env bash
# Run a command as N parallel jobs on this machine (the default $cmd; Kaldi's run.pl form):
#   utils/run_local.sh [options] JOB=1:N logdir/name.JOB.log command args...
# Every "JOB" in the log path and arguments becomes the job number. Each job's stdout and stderr go
# to its own log, headed by the command line and followed by its exit status and time taken.
# Exits non-zero, naming the logs, if any job fails. Without JOB=, runs one job.
# Options: the per-command resources of utils/run_slurm.sh (Kaldi's queue.pl/slurm.pl options), as
# they apply to one machine:
#   --max-jobs-run M   at most M jobs at a time (default: $PYSPK_MAX_JOBS, or the number of CPUs)
#   --num-threads N    each job runs with OMP_NUM_THREADS=N (default: the environment's)
#   --gpu G            each job sees G GPUs of this machine's (CUDA_VISIBLE_DEVICES, or nvidia-smi's
#                      list), dealt out round-robin by job number so parallel jobs spread over the GPUs;
#                      with no GPU visible the jobs run on the CPU
#   --mem M, --time T  accepted and ignored here (memory and time limits are for a cluster)
#   --num-nodes 1      (more than one node needs a cluster: an error here)
set -uo pipefail
max_jobs_run=${PYSPK_MAX_JOBS:-$(getconf _NPROCESSORS_ONLN)}
num_threads=
gpu=0
mem=
time=
num_nodes=1
help_message="usage: $0 [--max-jobs-run M] [--num-threads N] [--gpu G] [--mem M] [--time T] JOB=1:N log/x.JOB.log command ..."
. "$(dirname "${BASH_SOURCE[0]}")/parse_options.sh"
first=1; last=1
if [[ "${1:-}" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
  first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; shift
fi
[ $# -ge 2 ] || { echo "$help_message" >&2; exit 1; }
[ "$num_nodes" -le 1 ] || { echo "$0: --num-nodes $num_nodes needs a cluster (utils/run_slurm.sh)" >&2; exit 1; }
log_pattern=$1; shift

gpus=()
if [ "$gpu" -gt 0 ]; then
  mapfile -t gpus < <("$(dirname "${BASH_SOURCE[0]}")/visible_gpus.sh")
  if [ ${#gpus[@]} -gt 0 ] && [ "$gpu" -gt ${#gpus[@]} ]; then
    echo "$0: --gpu $gpu asks for more GPUs than the ${#gpus[@]} visible (${gpus[*]})" >&2; exit 1
  fi
fi

run_job() {
  local job=$1; shift
  local log=${log_pattern//JOB/$job} words=() arg i devices=()
  for arg in "$@"; do words+=("${arg//JOB/$job}"); done
  mkdir -p "$(dirname "$log")"
  [ -n "$num_threads" ] && export OMP_NUM_THREADS=$num_threads
  local gpu_note="no GPU visible: on the CPU"
  if [ ${#gpus[@]} -gt 0 ]; then
    for ((i = 0; i < gpu; i++)); do devices+=("${gpus[((job - 1) * gpu + i) % ${#gpus[@]}]}"); done
    CUDA_VISIBLE_DEVICES=$(IFS=,; echo "${devices[*]}")
    export CUDA_VISIBLE_DEVICES
    gpu_note="CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"
  fi
  local start=$SECONDS
  {
    echo "# ${words[*]}"
    echo "# Started at $(date)"
    [ -n "${SLURM_JOB_ID:-}" ] &&
      echo "# Slurm job ${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID} on" \
        "$(hostname): ${SLURM_CPUS_ON_NODE:-?} CPUs${CUDA_VISIBLE_DEVICES:+, CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES}"
    [ -n "$num_threads" ] && echo "# OMP_NUM_THREADS=$OMP_NUM_THREADS"
    [ "$gpu" -gt 0 ] && echo "# $gpu_note"
  } > "$log"
  # A lone argument with spaces or a pipe is a shell command line (as Kaldi's run.pl allows).
  if [ ${#words[@]} -eq 1 ]; then bash -c "${words[0]}" >> "$log" 2>&1; else "${words[@]}" >> "$log" 2>&1; fi
  local rc=$?
  echo "# Accounting: time=$((SECONDS - start)) seconds" >> "$log"
  echo "# Ended (code $rc) at $(date)" >> "$log"
  return $rc
}

declare -A pids=()
failed=()
for ((job = first; job <= last; job++)); do
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs_run" ]; do wait -n || true; done
  run_job "$job" "$@" &
  pids[$job]=$!
done
for ((job = first; job <= last; job++)); do
  wait "${pids[$job]}" || failed+=("$job")
done
if [ ${#failed[@]} -gt 0 ]; then
  for job in "${failed[@]}"; do
    echo "$0: job $job of $first..$last failed; see ${log_pattern//JOB/$job}" >&2
    tail -n 5 "${log_pattern//JOB/$job}" | sed 's/^/    /' >&2
  done
  exit 1
fi
exit 0
