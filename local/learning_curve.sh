#!/usr/bin/env bash
# How each system improves with more training speakers, for the CNN and the baselines:
#
#   local/learning_curve.sh [--task verification|identification] [--data data] [--exp exp]
#                           [--sizes "25 50 100"] [--cnn-config FILE] [--speed-perturb true|false]
#                           [--ivector-extractor DIR] [--plda-config FILE]
#
# Needs run.sh's stages 0-1 in --data. For each size N it keeps N speakers (every k-th in sorted order
# of the next larger size's, so the smaller sets are inside the larger ones) and writes <exp>/curve_N (verification) or
# <exp>/iden_curve_N (identification):
#   verification:   N of the verification-training speakers; run.sh's stages 4-8 (CNN softmax and joint,
#                   GMM-UBM, i-vector + PLDA) scored on the same test trials; the identification split
#                   is left as it is. --cnn-config default conf/cnn_demo.conf; --speed-perturb as run.sh's
#                   (default true: the CNNs also train on the N speakers' speed-perturbed copies, which
#                   run.sh's stage 1 made in veri_train_sp_spec).
#   identification: N of the identification speakers, each with all its iden_split.txt utterances
#                   (train / validation / test: fewer classes, the same utterances per class); run.sh's
#                   stages 2-3 (CNN softmax and joint) and the i-vector SVMs of stage 8 on i-vectors of
#                   --ivector-extractor (default <exp>/ivector_extractor, run.sh's stage 8 on --data:
#                   trained on the verification-training speakers, the same for every size; LDA
#                   dimension of the PLDA projection from --plda-config, default conf/plda.conf).
#                   --cnn-config default conf/cnn_demo_iden.conf.
# local/plot_learning_curve.py draws the figure from the RESULTS of every size.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./path.sh

task=verification
data=data
exp=exp
sizes="25 50 100"
cnn_config=
ivector_extractor=
plda_config=conf/plda.conf
speed_perturb=true
nj=2
help_message="Usage: $0 [--task verification|identification] [--data DIR] [--exp DIR] [--sizes 'N ...']
  [--cnn-config FILE] [--speed-perturb true|false] [--ivector-extractor DIR] [--plda-config FILE] [--nj N]"
. utils/parse_options.sh
. utils/identify_with_svms.sh
[ $# -eq 0 ] || { echo "$help_message" >&2; exit 1; }
case $task in
  verification)   split=veri_train prefix=curve
                  subsets="veri_train_spec veri_train_mfcc veri_val_spec veri_val_mfcc"
                  case $speed_perturb in
                    true)  subsets="$subsets veri_train_sp_spec"
                           [ -f $data/veri_train_sp_spec/feats.scp ] || { echo "$0: no $data/veri_train_sp_spec/feats.scp" \
                             "(run.sh --stage 1 --stop-stage 1 with --speed-perturb true on $data)" >&2; exit 1; } ;;
                    false) ;;
                    *) echo "$0: --speed-perturb must be true or false, not '$speed_perturb'" >&2; exit 1 ;;
                  esac
                  copies="iden_train_spec iden_val_spec iden_test_spec iden_train_mfcc iden_val_mfcc iden_test_mfcc iden_test veri_test_spec veri_test_mfcc veri_test" ;;
  identification) split=iden_train prefix=iden_curve copies=
                  subsets="iden_train_spec iden_val_spec iden_test_spec iden_train_mfcc iden_val_mfcc iden_test_mfcc iden_test"
                  ivector_extractor=${ivector_extractor:-$exp/ivector_extractor}
                  [ -f $ivector_extractor/final.ie ] ||
                    { echo "$0: no $ivector_extractor/final.ie (run.sh --stage 7 --stop-stage 8 on $data first)" >&2; exit 1; } ;;
  *) echo "$0: --task must be verification or identification, not '$task'" >&2; exit 1 ;;
esac

# The N speakers of a size: every k-th of the next larger size's speakers (of all, for the largest),
# so that every set lies inside the larger ones whatever the sizes.
nested_speakers() {  # n
  local m speakers
  speakers=$(cut -d' ' -f1 $data/${split}_spec/spk2utt)
  for m in $(printf '%s\n' $sizes | sort -rn); do
    [ "$m" -ge "$1" ] || break
    speakers=$(echo "$speakers" | awk -v s=$(( $(echo "$speakers" | wc -l) / m )) -v n=$m '(NR - 1) % s == 0 && ++k <= n')
  done
  echo "$speakers"
}
total=$(wc -l < $data/${split}_spec/spk2utt)
for n in $sizes; do
  [ "$n" -le "$total" ] || { echo "$0: $n speakers asked for, $data/${split}_spec has $total" >&2; exit 1; }
  dir=$exp/${prefix}_$n
  sub=$dir/data
  mkdir -p $dir
  nested_speakers $n > $dir/speakers
  rm -rf $sub; mkdir -p $sub
  for x in $copies; do cp -r $data/$x $sub/$x; done
  for x in $subsets; do
    [ -d $data/$x ] || continue
    utils/subset_data_dir.sh --spk-list $dir/speakers $([[ $x == *_sp_spec ]] && echo --with-speed-copies true) \
      $data/$x $sub/$x
  done
  echo "$0: $n training speakers ($(wc -l < $sub/${split}_spec/utt2spk) utterances): $dir"
  if [ $task = verification ]; then
    ./run.sh --stage 4 --stop-stage 8 --nj $nj --data $sub --exp $dir --cnn-config ${cnn_config:-conf/cnn_demo.conf} \
      --speed-perturb $speed_perturb > $dir/run.log 2>&1
  else
    ./run.sh --stage 2 --stop-stage 3 --nj $nj --data $sub --exp $dir \
      --cnn-iden-config ${cnn_config:-conf/cnn_demo_iden.conf} > $dir/run.log 2>&1
    for x in iden_train iden_val iden_test; do
      steps/extract_ivectors.sh --nj $nj $ivector_extractor $sub/${x}_mfcc $dir/ivectors_$x >> $dir/run.log 2>&1
    done
    identify_with_svms $dir $sub/iden_test ivector ivector.scp $dir/ivectors_ $plda_config >> $dir/run.log 2>&1  # as run.sh's stage 8
  fi
  steps/show_results.sh $dir > /dev/null
done
echo "$0: done; local/plot_learning_curve.py$([ $task = identification ] && echo ' --task identification') $(for n in $sizes; do printf '%s ' $exp/${prefix}_$n; done)"
