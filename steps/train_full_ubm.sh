#!/usr/bin/env bash
# Refine a diagonal UBM into a full-covariance one (Kaldi voxceleb/v1's train_full_ubm.sh): start
# from the diagonal UBM of <diag-ubm-dir>, then --num-iters EM iterations over a data dir, statistics
# in --nj parallel jobs, summed. Writes <dir>/final.ubm and copies <diag-ubm-dir>/frame_opts;
# steps/train_ivector_extractor.sh takes <dir> as its <ubm-dir>. Keeps every iteration's model,
# <dir>/N.ubm; final.ubm links to the last; --stage N resumes at iteration N (stage -1: the start).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
num_iters=4
stage=-1              # -1: start; N >= 0: resume at EM iteration N (from <dir>/N.ubm)
min_eigenvalue=1e-3   # covariance eigenvalue floor
device=auto
help_message="Usage: $0 [options] <diag-ubm-dir> <data-dir> <full-ubm-dir>
 e.g.: $0 --nj 4 exp/ubm data/veri_train_mfcc exp/full_ubm
Options: --nj N --cmd CMD --num-iters N --stage N --min-eigenvalue F --device D"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
srcdir=$1 data=$2 dir=$3

for f in "$srcdir/final.ubm" "$srcdir/frame_opts" "$data/feats.scp" "$data/vad.scp"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
mkdir -p "$dir/log"
cp "$srcdir/frame_opts" "$dir/frame_opts"
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj" >/dev/null
sdata=$data/split$nj

if [ "$stage" -le -1 ]; then
  $cmd "$dir/log/init.log" python -m pyspk.bin.init_full_ubm "$srcdir/final.ubm" "$dir/0.ubm"
fi
for x in $(seq 0 $((num_iters - 1))); do
  [ "$stage" -le "$x" ] || continue
  [ -f "$dir/$x.ubm" ] || { echo "$0: no $dir/$x.ubm to resume iteration $x from" >&2; exit 1; }
  $cmd JOB=1:"$nj" "$dir/log/acc.$x.JOB.log" python -m pyspk.bin.acc_gmm_stats --config "$dir/frame_opts" \
    --device "$device" "$dir/$x.ubm" "$sdata/JOB" "$dir/$x.JOB.acc"
  $cmd "$dir/log/update.$x.log" python -m pyspk.bin.update_gmm --nj "$nj" --min-variance "$min_eigenvalue" \
    "$dir/$x.ubm" "$dir/$x" "$dir/$((x + 1)).ubm"
  echo "$0: iteration $x: $(grep "log-likelihood" "$dir/log/update.$x.log")"
  rm -f "$dir/$x".*.acc
done
ln -sfn "$num_iters.ubm" "$dir/final.ubm"
echo "$0: wrote $dir/final.ubm -> $num_iters.ubm"
