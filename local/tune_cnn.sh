#!/usr/bin/env bash
# Choose the CNN's settings on development data only, never on the test trials.
#
#   local/tune_cnn.sh [--data data] [--exp exp] [--parallel 4] [--threads 2] [--stage 0] <config-list>
#
# Needs run.sh's stages 0-1 in --data. Makes, from the verification training speakers (veri_train):
#   dev_train_spec   3/4 of them, to train on;     dev_test_spec   the other 1/4, with every pair of
#   dev_val_spec     identification-validation utterances of dev_train's speakers (model selection);
#   dev_train_sp_spec, iden_train_sp_spec   speed-perturbed copies (0.9, 1.1): new speakers for
#                    verification, more utterances of the same speakers for identification
#                    (each made only when <config-list> trains on it).
# Then trains every line of <config-list>:   name  train-set  [train_cnn options...]
#   train-set dev_train | dev_train_sp: verification choice, scored by cosine on dev_test's trials;
#   train-set dev_train<N> | dev_train<N>_sp: the same on the first N of dev_train's speakers (and their
#                    copies), validated on theirs: a choice at a smaller scale (e.g. the demo's 32 speakers);
#   train-set iden_train | iden_train_sp: identification choice, by top-1 on iden_val (all speakers).
# Writes $exp/tune/<name>/ and the table $exp/tune/RESULTS.<list name> (last-epoch validation top-1;
# dev EER and minDCF of final.pt, the best epoch by validation top-1 unless --average-last).
set -euo pipefail
cd "$(dirname "$0")/.."
. ./path.sh

data=data
exp=exp
parallel=4     # configs trained at once
threads=2      # CPU threads per config
stage=0
nj=4
help_message="Usage: $0 [--data DIR] [--exp DIR] [--parallel N] [--threads N] [--stage N] <config-list>"
. utils/parse_options.sh
[ $# -eq 1 ] || { echo "$help_message" >&2; exit 1; }
list=$1
tune=$exp/tune
feats=$tune/feats

if [ $stage -le 0 ]; then
  for d in veri_train_spec iden_train_spec iden_val_spec; do
    [ -f $data/$d/feats.scp ] || { echo "$0: expected $data/$d/feats.scp (run.sh stages 0-1)" >&2; exit 1; }
  done
  mkdir -p $tune
  awk 'NR % 4 == 0 {print $1}' $data/veri_train_spec/spk2utt > $tune/dev_test.spk
  awk 'NR % 4 != 0 {print $1}' $data/veri_train_spec/spk2utt > $tune/dev_train.spk
  utils/subset_data_dir.sh --spk-list $tune/dev_test.spk $data/veri_train_spec $data/dev_test_spec
  utils/subset_data_dir.sh --spk-list $tune/dev_train.spk $data/veri_train_spec $data/dev_train_spec
  utils/subset_data_dir.sh --spk-list $tune/dev_train.spk $data/iden_val_spec $data/dev_val_spec
  python -m pyspk.bin.make_calibration_trials --max-targets 0 --nontarget-ratio 0 \
    $data/dev_test_spec $data/dev_test_spec/trials
fi

# Speed-perturbed copies of a set only when the list trains on them.
if [ $stage -le 1 ]; then
  for x in dev_train iden_train; do
    awk -v x=$x '$1 !~ /^#/ && $2 ~ "^" x "[0-9]*_sp$" {found = 1} END {exit !found}' "$list" || continue
    keep=false; [ $x = iden_train ] && keep=true
    utils/perturb_data_dir_speed.sh --keep-speakers $keep $data/${x}_spec $data/${x}_sp $feats/audio_$x
    steps/make_spectrogram.sh --nj $nj --spectrogram-config conf/spectrogram.conf \
      $data/${x}_sp $tune/make_spectrogram_$x $feats/spec_${x}_sp
    rm -rf $data/${x}_sp_spec; cp -r $data/${x}_sp $data/${x}_sp_spec
  done
fi

run_config() {  # name train-set options...
  local name=$1 set=$2; shift 2
  local dir=$tune/$name valid=$data/dev_val_spec
  case $set in
    iden_train*) valid=$data/iden_val_spec ;;
    dev_train[0-9]*) valid=$data/dev_val$(subset_size $set)_spec ;;
  esac
  rm -rf $dir; mkdir -p $dir
  local start=$SECONDS
  OMP_NUM_THREADS=$threads steps/train_cnn.sh "$@" --num-workers 0 $data/${set}_spec $valid $dir > $dir/run.log 2>&1
  echo "seconds $((SECONDS - start))" >> $dir/run.log
  if [[ $set == dev_train* ]]; then
    steps/extract_embeddings.sh --nj 1 $dir $data/dev_test_spec $dir/xvectors_dev_test >> $dir/run.log 2>&1
    steps/score.sh $data/dev_test_spec/trials $dir/xvectors_dev_test/xvector.scp $dir/scores >> $dir/run.log 2>&1
    steps/compute_metrics.sh $data/dev_test_spec/trials $dir/scores > $dir/metrics 2>> $dir/run.log
  fi
}

subset_size() { local n=${1#dev_train}; echo ${n%_sp}; }  # dev_train<N>[_sp] -> N

if [ $stage -le 2 ]; then
  # dev_train<N>[_sp] and dev_val<N>: the first N of dev_train's speakers (and their copies).
  for set in $(awk '$1 !~ /^#/ && $2 ~ /^dev_train[0-9]+(_sp)?$/ {print $2}' "$list" | sort -u); do
    n=$(subset_size $set)
    head -n $n $tune/dev_train.spk > $tune/dev_train$n.spk
    [ "$(wc -l < $tune/dev_train$n.spk)" -eq $n ] || { echo "$0: $set: dev_train has fewer than $n speakers" >&2; exit 1; }
    utils/subset_data_dir.sh --spk-list $tune/dev_train$n.spk $data/dev_val_spec $data/dev_val${n}_spec
    utils/subset_data_dir.sh --spk-list $tune/dev_train$n.spk --with-speed-copies true \
      $data/${set/$n/}_spec $data/${set}_spec   # from dev_train_spec or dev_train_sp_spec
  done

  while read -r name set options; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
    echo "$0: training $name on $set: $options"
    # shellcheck disable=SC2086
    run_config "$name" "$set" $options &
  done < "$list"
  wait
fi

# The table: one row per config, in the list's order.
{
  printf '%-24s %-14s %9s %9s %10s %8s\n' config train-set val-top1% dev-EER% minDCF0.01 seconds
  while read -r name set options; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    dir=$tune/$name
    top1=$(sed -nE 's/.*validation top-1 ([0-9.]+)%.*/\1/p' $dir/run.log 2>/dev/null | tail -n 1)
    eer=$(awk '/^EER:/ {sub("%", "", $2); print $2}' $dir/metrics 2>/dev/null || true)
    dcf=$(awk -F': ' '/^minDCF\(p-target=0.01\)/ {print $2}' $dir/metrics 2>/dev/null || true)
    secs=$(awk '/^seconds/ {print $2}' $dir/run.log 2>/dev/null || true)
    printf '%-24s %-14s %9s %9s %10s %8s\n' "$name" "$set" "${top1:--}" "${eer:--}" "${dcf:--}" "${secs:--}"
  done < "$list"
} > $tune/RESULTS.$(basename "$list")
cat $tune/RESULTS.$(basename "$list")
