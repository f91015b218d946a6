#!/usr/bin/env bash
# Run a command as N parallel jobs on this machine (the default $cmd; Kaldi's run.pl form):
#   utils/run_local.sh [--max-jobs-run M] JOB=1:N logdir/name.JOB.log command args...
# Every "JOB" in the log path and arguments becomes the job number. Each job's stdout and stderr go
# to its own log, headed by the command line and followed by its exit status and time taken.
# Exits non-zero, naming the logs, if any job fails. Without JOB=, runs one job.
set -uo pipefail
max_jobs=${PYSPK_MAX_JOBS:-$(getconf _NPROCESSORS_ONLN)}
if [ "${1:-}" = --max-jobs-run ]; then max_jobs=$2; shift 2; fi
first=1; last=1
if [[ "${1:-}" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
  first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--max-jobs-run M] JOB=1:N log/x.JOB.log command ..." >&2; exit 1; }
log_pattern=$1; shift

run_job() {
  local job=$1; shift
  local log=${log_pattern//JOB/$job} words=() arg
  for arg in "$@"; do words+=("${arg//JOB/$job}"); done
  mkdir -p "$(dirname "$log")"
  local start=$SECONDS
  {
    echo "# ${words[*]}"
    echo "# Started at $(date)"
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
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n || true; done
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
