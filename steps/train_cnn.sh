#!/usr/bin/env bash
# Train a VGG speaker network (Yadav & Rai 2018) on spectrogram data dirs.
# Writes <exp-dir>/{final.pt (best by validation accuracy, or --average-last K epochs), last.pt, config,
# spk2label, log/train.log}.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

cmd=$PYSPK_ROOT/utils/run_local.sh   # how the job runs (cmd.sh's $cuda_cmd); it is asked for --num-gpus GPUs
num_gpus=1               # training processes per node, one per GPU (> 1: torchrun DDP; 0: one, on the CPU)
num_nodes=1              # > 1: one DDP training over that many nodes (a Slurm $cmd: srun + torchrun)
passthrough_opts=()      # every other option, for python -m pyspk.bin.train_cnn
help_message="Usage: $0 [--cmd CMD] [--num-gpus N] [--num-nodes M] [training options] <train-data> <valid-data> <exp-dir>
 e.g.: $0 --config conf/cnn_demo.conf --center-loss-weight 5 data/iden_train_spec data/iden_val_spec exp/cnn_b_joint
Every other --key value (or --key=value, or line of a --config file) goes to python -m pyspk.bin.train_cnn
as --key=value: --network B, --center-loss-weight 5 (0 = softmax only), --resume true,
 --noise-data DIR, --epochs N, --width X, ... (see python -m pyspk.bin.train_cnn --help)"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
train_data=$1 valid_data=$2 dir=$3

for d in "$train_data" "$valid_data"; do
  for f in feats.scp utt2spk; do
    [ -f "$d/$f" ] || { echo "$0: expected $d/$f (a spectrogram data dir)" >&2; exit 1; }
  done
done
mkdir -p "$dir/log"
. "$PYSPK_ROOT/utils/lock.sh" "$dir"   # one writer at a time (a second run fails at once)

launcher=(python)
if [ "$num_gpus" -gt 1 ] || [ "$num_nodes" -gt 1 ]; then
  launcher=("$PYSPK_ROOT/utils/torchrun.sh" --nproc-per-node "$((num_gpus > 0 ? num_gpus : 1))")
fi
echo "$0: training in $dir (log: $dir/log/train.log)"
$cmd --gpu "$num_gpus" --num-nodes "$num_nodes" "$dir/log/train.log" \
  "${launcher[@]}" -m pyspk.bin.train_cnn "${passthrough_opts[@]}" "$train_data" "$valid_data" "$dir"
grep -E '^(network|epoch [0-9]+/|final.pt)' "$dir/log/train.log" | tail -n 3
