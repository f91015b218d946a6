#!/usr/bin/env bash
# Train an i-vector extractor (total-variability matrix T and residual covariances, EM) on a data
# dir's MFCC, aligned by the UBM of <ubm-dir> (top-C posteriors). The alignment is fixed, so each
# utterance's Baum-Welch statistics are computed once (<dir>/bw.JOB.{ark,scp}, as Kaldi computes its
# posteriors once); every EM iteration reads them, in --nj parallel jobs whose statistics are summed.
# Writes <dir>/final.ie (a link to the last iteration's <dir>/N.ie), <dir>/ivector_dim and
# <dir>/extract_opts (frame options of the UBM + --top-c: what steps/extract_ivectors.sh uses).
# Stages: -2 start, -1 Baum-Welch statistics, N >= 0 EM iteration N (--stage N resumes there).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
ivector_config=$PYSPK_ROOT/conf/ivector.conf   # --ivector-dim, --init-scale, --seed (pyspk.bin.init_ivector_extractor)
num_iters=5
stage=-2
top_c=20
device=auto
help_message="Usage: $0 [options] <ubm-dir> <data-dir> <extractor-dir>
 e.g.: $0 --nj 4 --ivector-config conf/ivector.conf exp/ubm data/veri_train_mfcc exp/extractor
Options: --nj N --cmd CMD --ivector-config FILE --num-iters N --stage N --top-c C --device D"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
ubmdir=$1 data=$2 dir=$3

for f in "$ubmdir/final.ubm" "$ubmdir/frame_opts" "$data/feats.scp" "$data/vad.scp" "$ivector_config"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
mkdir -p "$dir/log"
. "$PYSPK_ROOT/utils/lock.sh" "$dir"   # one writer at a time (a second run fails at once)
{ cat "$ubmdir/frame_opts"; echo "--top-c=$top_c"; } > "$dir/extract_opts"
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj" >/dev/null
sdata=$data/split$nj

if [ "$stage" -le -2 ]; then
  $cmd "$dir/log/init.log" python -m pyspk.bin.init_ivector_extractor --config "$ivector_config" \
    "$ubmdir/final.ubm" "$dir/0.ie"
fi
if [ "$stage" -le -1 ]; then
  echo "$0: Baum-Welch statistics under the UBM's top-$top_c alignment (once for all iterations)"
  $cmd JOB=1:"$nj" "$dir/log/bw.JOB.log" python -m pyspk.bin.compute_baum_welch_stats \
    --config "$dir/extract_opts" --device "$device" "$ubmdir/final.ubm" "$sdata/JOB" \
    "$(cd "$dir" && pwd)/bw.JOB.ark" "$dir/bw.JOB.scp"
fi
for x in $(seq 0 $((num_iters - 1))); do
  [ "$stage" -le "$x" ] || continue
  [ -f "$dir/$x.ie" ] || { echo "$0: no $dir/$x.ie to resume iteration $x from" >&2; exit 1; }
  $cmd JOB=1:"$nj" "$dir/log/acc.$x.JOB.log" python -m pyspk.bin.acc_ivector_stats \
    --device "$device" "$dir/$x.ie" "$dir/bw.JOB.scp" "$dir/$x.JOB.acc"
  $cmd "$dir/log/update.$x.log" python -m pyspk.bin.update_ivector_extractor --nj "$nj" \
    "$dir/$x.ie" "$dir/$x" "$dir/$((x + 1)).ie"
  echo "$0: iteration $x: $(grep "objective" "$dir/log/update.$x.log")"
  rm -f "$dir/$x".*.acc
done
ln -sfn "$num_iters.ie" "$dir/final.ie"
python -c 'import sys; from pyspk.backend.ivector import IvectorExtractor as I; print(I.load(sys.argv[1]).ivector_dim)' \
  "$dir/final.ie" > "$dir/ivector_dim"
echo "$0: wrote $dir/final.ie -> $num_iters.ie ($(cat "$dir/ivector_dim")-dim i-vectors)"
