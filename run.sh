#!/usr/bin/env bash
# pyspk recipe: Yadav & Rai, "Learning Discriminative Features for Speaker Identification and
# Verification" (Interspeech 2018), on any corpus in VoxCeleb1 layout (the shipped demo corpus by default).
#
#   ./run.sh                                   # everything, on egs/demo/corpus, CPU demo settings
#   ./run.sh --stage 6 --stop-stage 6          # rerun one stage
#   ./run.sh --corpus-root /data/VoxCeleb1 --nj 16 --cnn-config conf/network_b.conf \
#            --ubm-config conf/ubm_paper.conf --ivector-config conf/ivector_paper.conf \
#            --plda-config conf/plda_paper.conf
#
# Stages: 0 data dirs | 1 features | 2 CNN training for identification | 3 CNN identification |
#         4 CNN training for verification | 5 embeddings | 6 cosine scoring | 7 GMM-UBM |
#         8 i-vector + PLDA / SVM | 9 results table and DET plot
# Results of the last run on the demo corpus: see README.md ("Results").
set -euo pipefail
# Relative paths given on the command line are the caller's: made absolute before moving to the recipe dir.
args=() prev=
for a in "$@"; do
  case $prev in
    --corpus-root|--data|--exp|--featdir|--noise-data|--config|--*-config) [[ -z $a || $a = /* ]] || a=$PWD/$a ;;
  esac
  case $a in
    --corpus-root=[!/]*|--data=[!/]*|--exp=[!/]*|--featdir=[!/]*|--noise-data=[!/]*|--config=[!/]*|--*-config=[!/]*)
      a=${a%%=*}=$PWD/${a#*=} ;;
  esac
  args+=("$a") prev=$a
done
set -- "${args[@]}"
cd "$(dirname "$0")"
. ./cmd.sh
. ./path.sh

stage=0
stop_stage=9
corpus_root=egs/demo/corpus   # VoxCeleb1 layout: wav/<spk>/<session>/<n>.wav|flac, iden_split.txt, veri_test.txt
data=data                     # Kaldi data dirs
exp=exp                       # models, logs, scores, RESULTS
featdir=                      # feature archives (ark/scp); default <data>/feats: each --data has its own
nj=2                          # parallel jobs for features, embeddings and statistics
cmd=$train_cmd                # job launcher (cmd.sh): utils/run_local.sh or utils/run_slurm.sh
cuda_cmd=$cuda_cmd            # launcher for the network's GPU jobs: training, embeddings (cmd.sh)
num_gpus=1                    # GPUs per CNN training (> 1: one DDP training, torchrun; 0: on the CPU)
num_nodes=1                   # nodes per CNN training (> 1: DDP over Slurm nodes; PYSPK_CMD=slurm)
cnn_config=conf/cnn_demo.conf # conf/network_b.conf: the paper's Network B (for a GPU)
network_a=false               # also train the paper's Network A (identification only)
noise_data=                   # a noise data dir (e.g. MUSAN) for noise injection in CNN training
ubm_config=conf/ubm.conf      # conf/ubm_paper.conf: 1,024 components
ivector_config=conf/ivector.conf  # conf/ivector_paper.conf: 400-dim i-vectors
plda_config=conf/plda.conf        # conf/plda_paper.conf: LDA 200 before PLDA
help_message="Usage: $0 [--stage N] [--stop-stage M] [--corpus-root DIR] [--nj N] [--cmd CMD]
  [--cuda-cmd CMD] [--num-gpus N] [--num-nodes M] [--cnn-config FILE] [--network-a true|false] [--noise-data DIR] [--ubm-config FILE] [--ivector-config FILE]
  [--plda-config FILE]
  [--data DIR] [--exp DIR] [--featdir DIR]"
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$help_message" >&2; exit 1; }
[ -n "$featdir" ] || featdir=$(realpath -m "$data")/feats   # absolute, so scp files work from anywhere

announce() { echo "=== stage $1: $2 ($(date +%T))"; }
splits="iden_train iden_val iden_test veri_train veri_test"
noise_opt=()
[ -n "$noise_data" ] && noise_opt=(--noise-data "$noise_data")

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  announce 0 "data dirs from $corpus_root"
  local/prepare_voxceleb1.sh "$corpus_root" $data
  utils/check_disjoint_speakers.sh $data/veri_train $data/veri_test
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  announce 1 "spectrograms (CNN) and MFCC + VAD (baselines), extracted once for all utterances"
  for kind in spec mfcc; do utils/subset_data_dir.sh $data/all $data/all_$kind; done
  steps/make_spectrogram.sh --nj $nj --cmd "$cmd" --spectrogram-config conf/spectrogram.conf \
    $data/all_spec $exp/make_spectrogram $featdir/spec
  steps/make_mfcc.sh --nj $nj --cmd "$cmd" --mfcc-config conf/mfcc.conf $data/all_mfcc $exp/make_mfcc $featdir/mfcc
  steps/compute_vad_decision.sh --nj $nj --cmd "$cmd" --vad-config conf/vad.conf \
    $data/all_mfcc $exp/make_vad $featdir/vad
  # Every split takes its features from the all_* dirs; utterances skipped at extraction leave the
  # splits and their trials here (counts in the messages).
  for x in $splits; do
    for kind in spec mfcc; do
      utils/subset_data_dir.sh --feats-from $data/all_$kind $data/$x $data/${x}_$kind
    done
  done
  # Validation set for the verification network: the identification validation utterances of its speakers.
  utils/subset_data_dir.sh --spk-list $data/veri_train_spec/spk2utt $data/iden_val_spec $data/veri_val_spec
fi

cnn_losses="softmax:0 joint:5"   # name:center-loss weight (lambda); softmax = lambda 0
networks="b"
[ "$network_a" = true ] && networks="b a"

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  announce 2 "CNN training for identification (train/validation of iden_split.txt)"
  for net in $networks; do
    for loss in $cnn_losses; do
      steps/train_cnn.sh --cmd "$cuda_cmd" --num-gpus $num_gpus --num-nodes $num_nodes --config $cnn_config --network $net --center-loss-weight ${loss#*:} "${noise_opt[@]}" \
        $data/iden_train_spec $data/iden_val_spec $exp/cnn_${net}_${loss%:*}_iden
    done
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  announce 3 "CNN identification: top-1 / top-5 on the identification test split"
  for net in $networks; do
    for loss in $cnn_losses; do
      steps/identify_cnn.sh --exp-root $exp --system cnn_${net}_${loss%:*} \
        $exp/cnn_${net}_${loss%:*}_iden $data/iden_test_spec
    done
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  announce 4 "CNN training for verification (development speakers only; none of the trial speakers)"
  for loss in $cnn_losses; do
    steps/train_cnn.sh --cmd "$cuda_cmd" --num-gpus $num_gpus --num-nodes $num_nodes --config $cnn_config --network b --center-loss-weight ${loss#*:} "${noise_opt[@]}" \
      $data/veri_train_spec $data/veri_val_spec $exp/cnn_b_${loss%:*}_veri
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  announce 5 "bottleneck embeddings (x-vector-like) for verification train and test"
  for loss in $cnn_losses; do
    for x in veri_train veri_test; do
      steps/extract_embeddings.sh --nj $nj --cmd "$cuda_cmd" $exp/cnn_b_${loss%:*}_veri $data/${x}_spec \
        $exp/cnn_b_${loss%:*}_veri/xvectors_$x
    done
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  announce 6 "cosine scoring of the verification trials, EER and minDCF"
  for loss in $cnn_losses; do
    dir=$exp/cnn_b_${loss%:*}_veri
    steps/score.sh --backend cosine $data/veri_test_spec/trials $dir/xvectors_veri_test/xvector.scp \
      $exp/scores/cnn_b_${loss%:*}_cosine
    steps/compute_metrics.sh --exp-root $exp --system cnn_b_${loss%:*} \
      $data/veri_test_spec/trials $exp/scores/cnn_b_${loss%:*}_cosine
  done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  announce 7 "GMM-UBM baseline (MFCC + CMVN, MAP-adapted speaker models, frame LLR)"
  steps/train_ubm.sh --nj $nj --cmd "$cmd" --ubm-config $ubm_config $data/veri_train_mfcc $exp/ubm
  steps/score_gmm_ubm.sh --nj $nj --cmd "$cmd" $exp/ubm $data/veri_test_mfcc \
    $data/veri_test_mfcc/trials $exp/scores/gmm_ubm
  # (the trials actually scored: those whose utterances had voiced frames)
  steps/compute_metrics.sh --exp-root $exp --system gmm_ubm $exp/scores/gmm_ubm.trials $exp/scores/gmm_ubm
fi

if [ $stage -le 8 ] && [ $stop_stage -ge 8 ]; then
  announce 8 "i-vector baseline: PLDA for verification, SVM for identification"
  steps/train_ivector_extractor.sh --nj $nj --cmd "$cmd" --ivector-config $ivector_config \
    $exp/ubm $data/veri_train_mfcc $exp/ivector_extractor
  for x in $splits; do
    steps/extract_ivectors.sh --nj $nj --cmd "$cmd" $exp/ivector_extractor $data/${x}_mfcc $exp/ivectors_$x
  done
  steps/score.sh --config $plda_config \
    --train-vectors $exp/ivectors_veri_train/ivector.scp --train-data $data/veri_train_mfcc \
    $data/veri_test_mfcc/trials $exp/ivectors_veri_test/ivector.scp $exp/scores/ivector_plda
  steps/compute_metrics.sh --exp-root $exp --system ivector_plda \
    --dim "$(cat $exp/ivector_extractor/ivector_dim)" \
    $data/veri_test_mfcc/trials $exp/scores/ivector_plda
  steps/identify_svm.sh --exp-root $exp --system ivector_svm \
    $exp/ivectors_iden_train $exp/ivectors_iden_val $exp/ivectors_iden_test
fi

if [ $stage -le 9 ] && [ $stop_stage -ge 9 ]; then
  announce 9 "results"
  steps/show_results.sh $exp
fi
