#!/usr/bin/env bash
# Train a diagonal-covariance UBM on a data dir's MFCC (feats.scp + vad.scp): a start from a sample of
# frames (k-means++ or component splitting, conf/ubm.conf), then --num-iters EM iterations over all the
# data, statistics accumulated in --nj parallel jobs and summed. Writes <dir>/final.ubm and
# <dir>/frame_opts (how frames are made: deltas, sliding CMVN; every later step reads it).
# Keeps every iteration's model, <dir>/N.ubm (0.ubm: the start); final.ubm links to the last, so a
# run killed during iteration N resumes with --stage N (stage -1: the start).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
ubm_config=$PYSPK_ROOT/conf/ubm.conf   # --num-gauss, --init, --num-frames, ... (pyspk.bin.init_ubm options)
num_iters=4                # EM iterations over all the data after the start
stage=-1                   # -1: start; N >= 0: resume at EM iteration N (from <dir>/N.ubm)
add_deltas=true
cmvn_window=300            # sliding CMVN window (frames, means only)
device=auto                # auto | cpu | cuda
help_message="Usage: $0 [options] <data-dir> <ubm-dir>
 e.g.: $0 --nj 4 --cmd utils/run_local.sh --ubm-config conf/ubm.conf data/veri_train_mfcc exp/ubm
Options: --nj N --cmd CMD --ubm-config FILE --num-iters N --stage N --add-deltas true|false --cmvn-window N --device D"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 2 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
data=$1 dir=$2

for f in "$data/feats.scp" "$data/vad.scp" "$ubm_config"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
mkdir -p "$dir/log"
. "$PYSPK_ROOT/utils/lock.sh" "$dir"   # one writer at a time (a second run fails at once)
printf -- '--add-deltas=%s\n--cmvn-window=%s\n' "$add_deltas" "$cmvn_window" > "$dir/frame_opts"
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj" >/dev/null
sdata=$data/split$nj

if [ "$stage" -le -1 ]; then
  echo "$0: starting the UBM from a sample of $data (log: $dir/log/init.log)"
  $cmd "$dir/log/init.log" python -m pyspk.bin.init_ubm --config "$ubm_config" --config "$dir/frame_opts" \
    --device "$device" --num-threads "$(nproc)" "$data" "$dir/0.ubm"
fi

for x in $(seq 0 $((num_iters - 1))); do
  [ "$stage" -le "$x" ] || continue
  [ -f "$dir/$x.ubm" ] || { echo "$0: no $dir/$x.ubm to resume iteration $x from" >&2; exit 1; }
  $cmd JOB=1:"$nj" "$dir/log/acc.$x.JOB.log" python -m pyspk.bin.acc_gmm_stats --config "$dir/frame_opts" \
    --device "$device" "$dir/$x.ubm" "$sdata/JOB" "$dir/$x.JOB.acc"
  $cmd "$dir/log/update.$x.log" python -m pyspk.bin.update_gmm --nj "$nj" "$dir/$x.ubm" "$dir/$x" "$dir/$((x + 1)).ubm"
  echo "$0: iteration $x: $(grep "log-likelihood" "$dir/log/update.$x.log")"
  rm -f "$dir/$x".*.acc
done
ln -sfn "$num_iters.ubm" "$dir/final.ubm"
echo "$0: wrote $dir/final.ubm -> $num_iters.ubm"
