# How parallel jobs run: every step takes --cmd "$train_cmd" and calls
#   $cmd JOB=1:N logdir/name.JOB.log command ...
# Default: this machine (all jobs in parallel, at most $(nproc) at a time; PYSPK_MAX_JOBS caps it).
# On a Slurm cluster: export PYSPK_CMD=slurm (and PYSPK_SLURM_OPTS="--partition=... --mem=8G").
case "${PYSPK_CMD:-local}" in
  local) export train_cmd="utils/run_local.sh" ;;
  slurm) export train_cmd="utils/run_slurm.sh" ;;
  *) echo "cmd.sh: PYSPK_CMD must be local or slurm, not $PYSPK_CMD" >&2; return 1 ;;
esac
# GPU jobs (training) use the same launcher; on Slurm add e.g. PYSPK_SLURM_OPTS="--gres=gpu:1".
export cuda_cmd="$train_cmd"
