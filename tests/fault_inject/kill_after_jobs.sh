#!/usr/bin/env bash
# A --cmd launcher for tests/test_rerun_integrity.py: runs the jobs with utils/run_local.sh, then
# kills the whole step (SIGKILL to its process group) before anything after the jobs can run.
"$(dirname "$0")/../../utils/run_local.sh" "$@" || exit
kill -KILL -- "-$(ps -o pgid= $$ | tr -d ' ')"
