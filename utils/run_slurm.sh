#!/usr/bin/env bash
# Run a command as a Slurm array job, in the same form as utils/run_local.sh:
#   utils/run_slurm.sh [--slurm-opts "--partition=x --mem=8G --gres=gpu:1"] JOB=1:N logdir/name.JOB.log command args...
# Submits one `sbatch --wait --array=1-N` job; each task runs utils/run_local.sh for its own JOB, so
# logs look the same as local runs. PYSPK_SLURM_OPTS in the environment adds default sbatch options.
# Exits non-zero, naming the logs, if any task fails.
set -euo pipefail
slurm_opts=${PYSPK_SLURM_OPTS:-}
if [ "${1:-}" = --slurm-opts ]; then slurm_opts="$slurm_opts $2"; shift 2; fi
first=1; last=1
if [[ "${1:-}" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
  first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--slurm-opts OPTS] JOB=1:N log/x.JOB.log command ..." >&2; exit 1; }
log_pattern=$1; shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
qdir=$(dirname "$log_pattern")/q
mkdir -p "$qdir"
script=$qdir/$(basename "${log_pattern//.JOB/}").sh
{
  echo "#!/usr/bin/env bash"
  echo "cd $(printf '%q' "$PWD")"
  printf 'exec %q JOB=$SLURM_ARRAY_TASK_ID:$SLURM_ARRAY_TASK_ID %q' "$here/run_local.sh" "$log_pattern"
  printf ' %q' "$@"
  echo
} > "$script"
chmod +x "$script"
rc=0
# shellcheck disable=SC2086
sbatch --wait --parsable --array="$first-$last" --output="$qdir/slurm-%A_%a.out" $slurm_opts "$script" >/dev/null || rc=$?
failed=0
for ((job = first; job <= last; job++)); do
  log=${log_pattern//JOB/$job}
  if ! grep -q '^# Ended (code 0)' "$log" 2>/dev/null; then
    echo "$0: job $job of $first..$last failed; see $log (and $qdir/slurm-*_$job.out)" >&2
    failed=1
  fi
done
[ $failed -eq 0 ] && [ $rc -eq 0 ] || exit 1
