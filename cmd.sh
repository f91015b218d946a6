# How parallel jobs run (Kaldi's cmd.sh): every step takes --cmd and calls
#   $cmd [resources] JOB=1:N logdir/name.JOB.log command ...
# train_cmd runs the CPU jobs (features, statistics, scoring); cuda_cmd runs the network's jobs: the
# trainings, with one GPU (steps/train_cnn.sh --num-gpus N asks for N) and CPUs for the data loader
# processes (--num-threads is for the whole job: with N GPUs, about N x (--num-workers + 1)), and the
# embedding jobs, one GPU each.
# Per-command resources, the same for both launchers: --num-threads N, --mem 8G, --gpu G,
# --time HH:MM:SS, --max-jobs-run M (see utils/run_slurm.sh; on this machine only the threads, the GPUs
# and the number of jobs apply).
# Default: this machine (at most $(nproc) jobs at a time; PYSPK_MAX_JOBS caps it); with several GPUs,
# parallel GPU jobs are spread over them.
# On a Slurm cluster: export PYSPK_CMD=slurm, and PYSPK_SLURM_OPTS="--partition=... --account=..." for
# where jobs go (PYSPK_SLURM_GPU_OPTS for the GPU jobs only); edit the resources below to fit the cluster.
case "${PYSPK_CMD:-local}" in
  local)
    export train_cmd="utils/run_local.sh"
    export cuda_cmd="utils/run_local.sh --gpu 1" ;;
  slurm)
    export train_cmd="utils/run_slurm.sh --mem 4G"
    export cuda_cmd="utils/run_slurm.sh --gpu 1 --num-threads 8 --mem 32G" ;;
  *) echo "cmd.sh: PYSPK_CMD must be local or slurm, not $PYSPK_CMD" >&2; return 1 ;;
esac
