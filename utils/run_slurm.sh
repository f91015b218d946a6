#!/usr/bin/env bash
# Run a command as a Slurm array job, in the same form as utils/run_local.sh (Kaldi's slurm.pl):
#   utils/run_slurm.sh [options] JOB=1:N logdir/name.JOB.log command args...
# Submits one `sbatch --array=1-N` job; each task runs utils/run_local.sh for its own JOB, so logs
# look the same as local runs (plus a line naming the Slurm job, node and CPUs). Waits for the tasks,
# and exits non-zero, naming the logs, if any fails. Ctrl-C (or SIGTERM) cancels the array.
# Per-command resources, as in Kaldi's conf/slurm.conf:
#   --num-threads N   --cpus-per-task=N, and OMP_NUM_THREADS=N in the task (default: Slurm's one CPU)
#   --mem M           --mem=M per task (e.g. 8G; default: the partition's)
#   --gpu G           --gres=gpu:G, plus $PYSPK_SLURM_GPU_OPTS (e.g. "--partition=gpu")
#   --time T          --time=T (e.g. 48:00:00)
#   --num-nodes M     --nodes=M --ntasks-per-node=1 (a multi-node command: utils/torchrun.sh)
#   --max-jobs-run K  at most K tasks at a time (--array=1-N%K)
# $PYSPK_SLURM_OPTS adds sbatch options to every job: where it runs (--partition, --account, --qos),
# not resources.
set -uo pipefail
num_threads=
mem=
gpu=0
time=
num_nodes=1
max_jobs_run=
help_message="usage: $0 [--num-threads N] [--mem M] [--gpu G] [--time T] [--num-nodes M] [--max-jobs-run K] JOB=1:N log/x.JOB.log command ..."
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/parse_options.sh"
first=1; last=1
if [[ "${1:-}" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
  first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; shift
fi
[ $# -ge 2 ] || { echo "$help_message" >&2; exit 1; }
log_pattern=$1; shift

# shellcheck disable=SC2206
sbatch_opts=(${PYSPK_SLURM_OPTS:-})
[ -n "$num_threads" ] && sbatch_opts+=(--cpus-per-task="$num_threads")
[ -n "$mem" ] && sbatch_opts+=(--mem="$mem")
# shellcheck disable=SC2206
[ "$gpu" -gt 0 ] && sbatch_opts+=(--gres=gpu:"$gpu" ${PYSPK_SLURM_GPU_OPTS:-})
[ -n "$time" ] && sbatch_opts+=(--time="$time")
[ "$num_nodes" -gt 1 ] && sbatch_opts+=(--nodes="$num_nodes" --ntasks-per-node=1)

qdir=$(dirname "$log_pattern")/q
name=$(basename "${log_pattern//.JOB/}" .log)
mkdir -p "$qdir"
script=$qdir/$name.sh
{
  echo "#!/usr/bin/env bash"
  echo "cd $(printf '%q' "$PWD")"
  printf 'exec %q --num-threads %q JOB=$SLURM_ARRAY_TASK_ID:$SLURM_ARRAY_TASK_ID %q' \
    "$here/run_local.sh" "${num_threads:-1}" "$log_pattern"
  printf ' %q' "$@"
  echo
} > "$script"
chmod +x "$script"
logs=()
for ((job = first; job <= last; job++)); do logs[job]=${log_pattern//JOB/$job}; done
rm -f "${logs[@]}"   # a log from an earlier run must not count as this run's

# A signal while sbatch runs is kept for when the job id is known: without a trap, bash would drop a
# SIGINT that sbatch survives (it was sent to this script only), leaving the array to run on.
interrupted=0
trap 'interrupted=1' INT TERM HUP
submitted=$(sbatch --parsable --job-name="$name" --array="$first-$last${max_jobs_run:+%$max_jobs_run}" \
  --output="$qdir/slurm-%A_%a.out" "${sbatch_opts[@]}" "$script") ||
  { echo "$0: sbatch ${sbatch_opts[*]} failed for $script" >&2; exit 1; }
job_id=${submitted%%;*}
cancel() { scancel "$job_id"; echo "$0: interrupted: cancelled Slurm job $job_id" >&2; exit 130; }
trap cancel INT TERM HUP
[ "$interrupted" -eq 0 ] || cancel

ended() { [ -f "$1" ] && tail -n 1 "$1" | grep -q '^# Ended (code'; }
in_queue() {  # true while any task of the job is pending, running or completing (or squeue cannot tell)
  local out
  out=$(squeue -h -j "$job_id" -o %i 2>&1) || { [[ $out != *"Invalid job id"* ]]; return; }
  [ -n "$out" ]
}
# Like slurm.pl: watch the logs' last lines (cheap), and ask the queue now and then (every 5 s in the
# first minute, then every 30 s) whether a task was lost without writing its end (killed at its time or
# memory limit, cancelled, node failure).
delay=0.1 start=$SECONDS last_check=$((SECONDS - 5))
while true; do
  waiting=0
  for ((job = first; job <= last; job++)); do ended "${logs[job]}" || { waiting=1; break; }; done
  [ $waiting -eq 0 ] && break
  if [ $((SECONDS - last_check)) -ge $((SECONDS - start < 60 ? 5 : 30)) ]; then
    last_check=$SECONDS
    in_queue || { sleep 1; break; }
  fi
  sleep "$delay"
  delay=$(awk -v d="$delay" 'BEGIN { print (d * 1.5 < 2 ? d * 1.5 : 2) }')
done
trap - INT TERM HUP

failed=0
for ((job = first; job <= last; job++)); do
  if ! ended "${logs[job]}" || ! tail -n 1 "${logs[job]}" | grep -q '^# Ended (code 0)'; then
    echo "$0: job $job of $first..$last failed; see ${logs[job]} (and $qdir/slurm-${job_id}_$job.out)" >&2
    # Slurm's own message (e.g. a time or memory limit) is in the .out file when the log has no end.
    tail -n 5 "${logs[job]}" $(ended "${logs[job]}" || echo "$qdir/slurm-${job_id}_$job.out") 2>/dev/null |
      sed 's/^/    /' >&2
    failed=1
  fi
done
exit $failed
