# Commands run in the background, a few at a time, from a recipe script (source this file):
#   . utils/background_jobs.sh
#   bg_run N command args...   # starts the command (a program, not a shell function) once fewer than N
#                              # of the script's jobs run
#   bg_wait                    # waits for every job; returns 1, naming each failed command, if any failed
# Each job runs in a process group of its own (setsid): when the script is interrupted (Ctrl-C, kill),
# the traps below stop every job with all its children. (A background job ignores Ctrl-C: without them
# it would keep running after the script has gone.)
bg_pids=()
bg_commands=()

bg_run() {
  local max=$1; shift
  while [ "$(jobs -rp | wc -l)" -ge "$max" ]; do wait -n || true; done
  setsid "$@" &
  bg_pids+=($!)
  bg_commands+=("$*")
}

bg_wait() {
  local i failed=0
  for i in "${!bg_pids[@]}"; do
    if ! wait "${bg_pids[$i]}"; then
      echo "$0: failed: ${bg_commands[$i]}" >&2
      failed=1
    fi
  done
  bg_pids=() bg_commands=()
  return $failed
}

bg_kill() {
  local pid
  for pid in "${bg_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap 'bg_kill; exit 130' INT
trap 'bg_kill; exit 143' TERM
