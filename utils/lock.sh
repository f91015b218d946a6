# One writer per output: sourced by a step, it holds a lock on <output> (a dir or a file) until the
# step and every job it started have ended:
#   . utils/lock.sh <output>
# The lock is flock(1) on <parent>/.<name>.lock, which records "pid start-time" of the step holding it.
# A second step on the same output fails at once: "<output> is being written by pid N (started T)".
# The kernel releases the lock when its last holder ends, kill -9 included, so the lock of a killed
# run is taken over by the next one (which says so: its record was not cleared at a normal exit).
# Holding the lock, the step then removes the temp files that killed atomic writes of <output> left
# (of the file, or of the files directly in the dir: pyspk.io.atomic.remove_stale_temps).
pyspk_lock_target=${1:?usage: . utils/lock.sh <output-dir-or-file>}
pyspk_lock_file=$(dirname "$pyspk_lock_target")/.$(basename "$pyspk_lock_target").lock
mkdir -p "$(dirname "$pyspk_lock_target")"
exec {pyspk_lock_fd}>>"$pyspk_lock_file"
pyspk_lock_holder=$(cat "$pyspk_lock_file")
if ! flock -n "$pyspk_lock_fd"; then
  set -- ${pyspk_lock_holder:-unknown unknown}
  pyspk_lock_note=""
  kill -0 "$1" 2>/dev/null || pyspk_lock_note="; that step has ended but jobs it started still run"
  echo "$0: error: $pyspk_lock_target is being written by pid $1 (started ${2:-unknown})$pyspk_lock_note" >&2
  exit 1
fi
if [ -n "$pyspk_lock_holder" ]; then
  echo "$0: taking over the lock of $pyspk_lock_target from pid ${pyspk_lock_holder% *} (started ${pyspk_lock_holder#* }), which was killed"
fi
echo "$$ $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$pyspk_lock_file"
trap ': > "$pyspk_lock_file"' EXIT   # a normal exit (success or error) clears the record
python -m pyspk.bin.remove_stale_temps "$pyspk_lock_target"
