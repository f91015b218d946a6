#!/usr/bin/env bash
# Verification EER against the number of training speakers, for the CNN and the baselines:
#
#   local/learning_curve.sh [--data data] [--exp exp] [--sizes "25 50 100"] [--cnn-config FILE]
#
# Needs run.sh's stages 0-1 in --data (a corpus with at least max(--sizes) verification-training
# speakers). For each size N it keeps N of the verification-training speakers (every k-th in sorted
# order, so the smaller sets are inside the larger ones), then runs run.sh's stages 4-8 (CNN softmax and
# joint, GMM-UBM, i-vector + PLDA) into <exp>/curve_N with the same test trials; the identification
# split is left as it is. local/plot_learning_curve.py draws the figure from the RESULTS of every size.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./path.sh

data=data
exp=exp
sizes="25 50 100"
cnn_config=conf/cnn_demo.conf
nj=2
help_message="Usage: $0 [--data DIR] [--exp DIR] [--sizes 'N ...'] [--cnn-config FILE] [--nj N]"
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$help_message" >&2; exit 1; }

total=$(wc -l < $data/veri_train_spec/spk2utt)
for n in $sizes; do
  [ "$n" -le "$total" ] || { echo "$0: $n speakers asked for, $data/veri_train_spec has $total" >&2; exit 1; }
  dir=$exp/curve_$n
  sub=$dir/data
  mkdir -p $dir
  stride=$((total / n))
  awk -v s=$stride -v n=$n '(NR - 1) % s == 0 && ++k <= n {print $1}' $data/veri_train_spec/spk2utt > $dir/speakers
  rm -rf $sub; mkdir -p $sub
  for x in iden_train_spec iden_val_spec iden_test_spec iden_train_mfcc iden_val_mfcc iden_test_mfcc veri_test_spec veri_test_mfcc veri_test; do
    cp -r $data/$x $sub/$x
  done
  for x in veri_train_spec veri_train_mfcc veri_val_spec veri_val_mfcc; do
    [ -d $data/$x ] || continue
    utils/subset_data_dir.sh --spk-list $dir/speakers $data/$x $sub/$x
  done
  echo "$0: $n training speakers ($(wc -l < $sub/veri_train_spec/utt2spk) utterances): $dir"
  ./run.sh --stage 4 --stop-stage 8 --nj $nj --data $sub --exp $dir --cnn-config $cnn_config > $dir/run.log 2>&1
  steps/show_results.sh $dir > /dev/null
done
echo "$0: done; local/plot_learning_curve.py $(for n in $sizes; do printf '%s ' $exp/curve_$n; done)"
