#!/usr/bin/env bash
# Train a VGG speaker network (Yadav & Rai 2018) on spectrogram data dirs.
# Writes <exp-dir>/{final.pt (best by validation accuracy, or --average-last K epochs), last.pt, config,
# spk2label, log/train.log}.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

cmd=$PYSPK_ROOT/utils/run_local.sh   # how the job runs (cmd.sh's $train_cmd on a cluster)
num_gpus=1               # > 1: one torchrun process per GPU (DDP), the same training otherwise
help_message="Usage: $0 [--cmd CMD] [--num-gpus N] [training options] <train-data> <valid-data> <exp-dir>
 e.g.: $0 --config conf/cnn_demo.conf --center-loss-weight 5 data/iden_train_spec data/iden_val_spec exp/cnn_b_joint
Every other --key value (or --key=value) goes to python -m pyspk.bin.train_cnn as --key=value:
 --config conf/network_b.conf, --center-loss-weight 5 (0 = softmax only), --resume true,
 --noise-data DIR, --epochs N, --width X, ... (see python -m pyspk.bin.train_cnn --help)"

train_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) printf '%s\n' "$help_message" >&2; exit 0 ;;
    --cmd|--num-gpus) [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
      printf -v "$(echo "${1#--}" | tr - _)" '%s' "$2"; shift 2 ;;
    --cmd=*|--num-gpus=*) name=${1%%=*}; printf -v "$(echo "${name#--}" | tr - _)" '%s' "${1#*=}"; shift ;;
    --*=*) train_args+=("$1"); shift ;;
    --*) [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
      train_args+=("$1=$2"); shift 2 ;;
    *) break ;;
  esac
done
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
if [ "$num_gpus" -gt 1 ]; then
  launcher=(torchrun --standalone --nproc_per_node "$num_gpus")
fi
echo "$0: training in $dir (log: $dir/log/train.log)"
$cmd "$dir/log/train.log" "${launcher[@]}" -m pyspk.bin.train_cnn "${train_args[@]}" \
  "$train_data" "$valid_data" "$dir"
grep -E '^(network|epoch [0-9]+/|final.pt)' "$dir/log/train.log" | tail -n 3
