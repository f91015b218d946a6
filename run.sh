#!/usr/bin/env bash
# pyspk recipe: Yadav & Rai, "Learning Discriminative Features for Speaker Identification and
# Verification" (Interspeech 2018), on any corpus in VoxCeleb1 layout (the shipped demo corpus by default).
#
#   ./run.sh                                   # everything, on egs/demo/corpus, CPU demo settings
#   ./run.sh --stage 6 --stop-stage 6          # rerun one stage
#   ./run.sh --corpus-root /data/VoxCeleb1 --nj 16 --cnn-config conf/network_b.conf --cnn-iden-config conf/network_b.conf \
#            --ubm-config conf/ubm_paper.conf --ivector-config conf/ivector_paper.conf \
#            --plda-config conf/plda_paper.conf --cnn-plda-config conf/plda_cnn_paper.conf --asnorm-top-n 300 \
#            --network-a true --verification-ndims "64 128 256" --speed-perturb false   # every row of the paper's Tables 4 and 5
#   ./run.sh --corpus-root /data/VoxCeleb1 --train-corpus-root /data/VoxCeleb2 ...   # train on VoxCeleb2 dev,
#            # test on VoxCeleb1 (all speakers): every trial list in the corpus root (vox1_O, vox1_E, vox1_H, ...)
#
# Stages: 0 data dirs | 1 features | 2 CNN training for identification | 3 CNN identification
#         (the network's classifier; SVMs on its embeddings) |
#         4 CNN training for verification | 5 embeddings | 6 scoring (cosine, AS-norm, PLDA) and
#         calibration | 7 GMM-UBM | 8 i-vector + PLDA / SVM | 9 results table, DET plot, the paper's tables
# Results of the last run on the demo corpus: see README.md ("Results").
set -euo pipefail
# Relative paths given on the command line are the caller's: made absolute before moving to the recipe dir
# (called from the recipe dir itself, they stay as given).
if [ "$(pwd -P)" != "$(cd "$(dirname "$0")" && pwd -P)" ]; then
  args=() prev=
  for a in "$@"; do
    case $prev in
      --corpus-root|--train-corpus-root|--data|--exp|--featdir|--noise-data|--config|--*-config) [[ -z $a || $a = /* ]] || a=$PWD/$a ;;
    esac
    case $a in
      --corpus-root=[!/]*|--train-corpus-root=[!/]*|--data=[!/]*|--exp=[!/]*|--featdir=[!/]*|--noise-data=[!/]*|--config=[!/]*|--*-config=[!/]*)
        a=${a%%=*}=$PWD/${a#*=} ;;
    esac
    args+=("$a") prev=$a
  done
  set -- "${args[@]}"
fi
cd "$(dirname "$0")"
. ./cmd.sh
. ./path.sh

stage=0
stop_stage=9
corpus_root=egs/demo/corpus   # VoxCeleb1 layout: wav/<spk>/<session>/<n>.wav|flac, iden_split.txt, veri_test.txt
train_corpus_root=            # VoxCeleb2 dev layout (aac/<spk>/<video>/<n>.m4a): verification training corpus
trial_lists=                  # trial lists to use, e.g. vox1_O,vox1_O_clean (default: every one in --corpus-root)
data=data                     # Kaldi data dirs
exp=exp                       # models, logs, scores, RESULTS
featdir=                      # feature archives (ark/scp); default <data>/feats: each --data has its own
nj=2                          # parallel jobs for features, embeddings and statistics
cmd=$train_cmd                # job launcher (cmd.sh): utils/run_local.sh or utils/run_slurm.sh
cuda_cmd=$cuda_cmd            # launcher for the network's GPU jobs: training, embeddings (cmd.sh)
num_gpus=1                    # GPUs per CNN training (> 1: one DDP training, torchrun; 0: on the CPU)
num_nodes=1                   # nodes per CNN training (> 1: DDP over Slurm nodes; PYSPK_CMD=slurm)
cnn_jobs=                     # CNN trainings at once in stages 2 and 4 (default: 2 on this machine's CPU,
                              # each with half its cores; else 1)
cnn_config=conf/cnn_demo.conf # verification networks; conf/network_b.conf: the paper's Network B (for a GPU)
cnn_iden_config=conf/cnn_demo_iden.conf  # identification networks; conf/network_b.conf on a GPU
network_a=false               # also train the paper's Network A (identification only)
verification_ndims=           # Network B joint bottleneck sizes for verification, e.g. "64 128 256"
                              # (empty: the --cnn-config's ndims, 128 = the paper's in both shipped configs)
speed_perturb=true            # verification networks also train on 0.9x / 1.1x speed-perturbed copies of
                              # veri_train, each copy a new speaker (Kaldi, WeSpeaker; chosen on development
                              # speakers: docs/cnn_tuning.md); false: the paper's training data
noise_data=                   # a noise data dir (e.g. MUSAN) for noise injection in CNN training
ubm_config=conf/ubm.conf      # conf/ubm_paper.conf: 1,024 components
ivector_config=conf/ivector.conf  # conf/ivector_paper.conf: 400-dim i-vectors
plda_config=conf/plda.conf        # conf/plda_paper.conf: LDA 200 before PLDA
cnn_plda_config=                  # LDA + PLDA of the CNN embeddings (empty: --plda-config); conf/plda_cnn_paper.conf: LDA 100
asnorm_top_n=20                   # AS-norm: top-N cohort scores (cohort: the training speakers; 300 on VoxCeleb)
help_message="Usage: $0 [--stage N] [--stop-stage M] [--corpus-root DIR] [--train-corpus-root DIR]
  [--trial-lists L1,L2] [--nj N] [--cmd CMD]
  [--cuda-cmd CMD] [--num-gpus N] [--num-nodes M] [--cnn-jobs N] [--cnn-config FILE] [--cnn-iden-config FILE] [--network-a true|false] [--verification-ndims 'N ...'] [--speed-perturb true|false] [--noise-data DIR] [--ubm-config FILE] [--ivector-config FILE]
  [--plda-config FILE] [--cnn-plda-config FILE] [--asnorm-top-n N]
  [--data DIR] [--exp DIR] [--featdir DIR]"
. utils/parse_options.sh
[ $# -eq 0 ] || { echo "$help_message" >&2; exit 1; }
[ -n "$featdir" ] || featdir=$(realpath -m "$data")/feats   # absolute, so scp files work from anywhere
case $speed_perturb in
  true)  veri_train_cnn=veri_train_sp veri_cnn_data=" + speed-perturbed copies (0.9x, 1.1x) as new speakers" ;;
  false) veri_train_cnn=veri_train veri_cnn_data= ;;
  *) echo "$0: --speed-perturb must be true or false, not '$speed_perturb'" >&2; exit 1 ;;
esac

announce() { echo "=== stage $1: $2 ($(date +%T))"; }
# A stage needing a split that stage 0 could not make (see its WARNING lines) stops before any work;
# such a split is named before one that stage 1 has yet to make, since rerunning stage 1 would not help.
require_split() {
  local d split pass
  for pass in corpus features; do
    for d in "$@"; do
      [ ! -s "$d/utt2spk" ] || continue
      split=${d##*/}; split=${split%_spec}; split=${split%_mfcc}; split=${split%_sp}  # the stage-0 split it comes from
      if [ -s "$data/$split/utt2spk" ]; then
        [ $pass = features ] || continue
        echo "$0: this stage needs $d: run stage 1 (features) first" >&2
      else
        echo "$0: this stage needs $d, but stage 0 could not make $data/$split from $corpus_root" \
          "${train_corpus_root:+and $train_corpus_root }(see its WARNING lines)" >&2
      fi
      exit 1
    done
  done
}
# The trial lists of a test dir (vox1_O, vox1_E_clean, ...: its trials_<list> files); none is an error.
trial_lists_in() {
  local names
  names=$(cd "$1" && ls trials_* 2>/dev/null | sed 's/^trials_//') || true
  [ -n "$names" ] || { echo "$0: no trial list (trials_<name>) in $1" >&2; exit 1; }
  echo $names
}
splits="iden_train iden_val iden_test veri_train veri_test"
noise_opt=()
[ -n "$noise_data" ] && noise_opt=(--noise-data "$noise_data")

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  announce 0 "data dirs from $corpus_root"
  local/prepare_voxceleb1.sh --train-corpus-root "$train_corpus_root" --trial-lists "$trial_lists" "$corpus_root" $data
  if [ -d $data/veri_train ] && [ -d $data/veri_test ]; then
    utils/check_disjoint_speakers.sh $data/veri_train $data/veri_test
  fi
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
  for x in $splits veri_val; do
    if [ ! -d $data/$x ]; then rm -rf $data/${x}_spec $data/${x}_mfcc; continue; fi  # not made at stage 0
    for kind in spec mfcc; do
      utils/subset_data_dir.sh --feats-from $data/all_$kind $data/$x $data/${x}_$kind
    done
  done
  if [ "$speed_perturb" = true ] && [ -d $data/veri_train ]; then
    # The verification networks' training data (stage 4): veri_train and its speed-perturbed copies.
    utils/perturb_data_dir_speed.sh $data/veri_train $data/veri_train_sp $featdir/audio_sp
    utils/subset_data_dir.sh $data/veri_train_sp $data/veri_train_sp_spec
    steps/make_spectrogram.sh --nj $nj --cmd "$cmd" --spectrogram-config conf/spectrogram.conf \
      $data/veri_train_sp_spec $exp/make_spectrogram $featdir/spec_sp
  fi
fi

# name:center-loss weight (lambda): softmax is lambda 0; joint (empty) takes --center-loss-weight from its
# config (--cnn-config, --cnn-iden-config), so a conf file chooses the joint system's lambda.
cnn_losses="softmax:0 joint:"
networks="b"
[ "$network_a" = true ] && networks="b a"
# Verification systems (stages 4-6), name:lambda:ndims (ndims empty: the config's): Network B softmax,
# and Network B joint at each --verification-ndims size, named cnn_b_joint_nd<N> unless N is 128.
veri_systems=()
for loss in $cnn_losses; do
  for nd in $([ ${loss%:*} = joint ] && echo "$verification_ndims"); do
    [[ $nd =~ ^[1-9][0-9]*$ ]] || { echo "$0: --verification-ndims: '$nd' is not a bottleneck size" >&2; exit 1; }
    veri_systems+=("cnn_b_joint$([ "$nd" -eq 128 ] || echo _nd$nd):${loss#*:}:$nd")
  done
  [ ${loss%:*} = joint ] && [ -n "$verification_ndims" ] || veri_systems+=("cnn_b_${loss%:*}:${loss#*:}:")
done
recorded=(--corpus "$corpus_root")   # what produced each RESULTS row (steps/show_results.sh --paper true)
# CNN trainings run as background jobs (utils/background_jobs.sh), --cnn-jobs at once. On this machine's
# CPU the default is two, each with half the cores: a small network's step gains little from more
# threads, so two trainings take about the time of one (bench/parallel_training.py). With a GPU here or a
# cluster launcher, one at a time unless --cnn-jobs says otherwise.
. utils/background_jobs.sh
. utils/identify_with_svms.sh   # stages 3 and 8
cnn_cmd=$cuda_cmd
if [ -z "$cnn_jobs" ]; then
  cnn_jobs=1
  if [[ $cuda_cmd == *run_local.sh* ]] && { [ "$num_gpus" -eq 0 ] || [ -z "$(utils/visible_gpus.sh)" ]; }; then
    cnn_jobs=2
  fi
fi
[[ $cnn_jobs =~ ^[1-9][0-9]*$ ]] || { echo "$0: --cnn-jobs must be a positive number, not '$cnn_jobs'" >&2; exit 1; }
if [ "$cnn_jobs" -gt 1 ] && [[ $cuda_cmd == *run_local.sh* && $cuda_cmd != *--num-threads* ]]; then
  cnn_threads=$(( $(nproc) / cnn_jobs ))
  cnn_cmd="$cuda_cmd --num-threads $(( cnn_threads > 0 ? cnn_threads : 1 ))"
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  announce 2 "CNN training for identification (train/validation of iden_split.txt)"
  require_split $data/iden_train_spec $data/iden_val_spec
  for net in $networks; do
    for loss in $cnn_losses; do
      lambda=${loss#*:}
      bg_run $cnn_jobs steps/train_cnn.sh --cmd "$cnn_cmd" --num-gpus $num_gpus --num-nodes $num_nodes \
        --config $cnn_iden_config --network $net ${lambda:+--center-loss-weight $lambda} "${noise_opt[@]}" \
        $data/iden_train_spec $data/iden_val_spec $exp/cnn_${net}_${loss%:*}_iden
    done
  done
  bg_wait || exit 1
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  announce 3 "CNN identification: top-1 / top-5 on the identification test split, by the network's classifier (the paper's) and by SVMs on its embeddings"
  require_split $data/iden_train_spec $data/iden_val_spec $data/iden_test_spec
  svm_plda_config=${cnn_plda_config:-$plda_config}   # the LDA dim of the SVMs on the CNN embeddings
  for net in $networks; do
    for loss in $cnn_losses; do
      name=cnn_${net}_${loss%:*}
      steps/identify_cnn.sh --exp-root $exp --system $name --listed-data $data/iden_test \
        "${recorded[@]}" --config-used $cnn_iden_config $exp/${name}_iden $data/iden_test_spec
      for x in iden_train iden_val iden_test; do
        steps/extract_embeddings.sh --nj $nj --cmd "$cuda_cmd" $exp/${name}_iden $data/${x}_spec $exp/${name}_iden/xvectors_$x
      done
      identify_with_svms $exp $data/iden_test $name xvector.scp $exp/${name}_iden/xvectors_ $svm_plda_config \
        "${recorded[@]}" --config-used "$cnn_iden_config $svm_plda_config"
    done
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  announce 4 "CNN training for verification (development speakers only; none of the trial speakers)"
  require_split $data/${veri_train_cnn}_spec $data/veri_val_spec
  for system in "${veri_systems[@]}"; do
    IFS=: read -r name lambda nd <<< "$system"
    bg_run $cnn_jobs steps/train_cnn.sh --cmd "$cnn_cmd" --num-gpus $num_gpus --num-nodes $num_nodes \
      --config $cnn_config --network b ${lambda:+--center-loss-weight $lambda} ${nd:+--ndims $nd} "${noise_opt[@]}" \
      $data/${veri_train_cnn}_spec $data/veri_val_spec $exp/${name}_veri
  done
  bg_wait || exit 1
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  announce 5 "bottleneck embeddings (x-vector-like) for verification train and validation (when made) and test"
  require_split $data/veri_test_spec
  for system in "${veri_systems[@]}"; do
    for x in veri_train veri_val veri_test; do
      [ -d $data/${x}_spec ] || continue
      steps/extract_embeddings.sh --nj $nj --cmd "$cuda_cmd" $exp/${system%%:*}_veri $data/${x}_spec \
        $exp/${system%%:*}_veri/xvectors_$x
    done
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  announce 6 "verification scoring: cosine (the paper's), AS-norm, LDA + PLDA; each calibrated to LLRs (a RESULTS row per back-end and trial list)"
  require_split $data/veri_test_spec $data/veri_train_spec $data/veri_val_spec
  lists=$(trial_lists_in $data/veri_test_spec)
  # Calibration trials among development speakers only (no test speaker): each validation utterance
  # (never trained on) against the other utterances; all same-speaker pairs (at most 20,000) and ten
  # times as many different-speaker pairs, seeded.
  python -m pyspk.bin.make_calibration_trials --enroll-data $data/veri_val_spec $data/veri_train_spec \
    $exp/calibration/trials
  for system in "${veri_systems[@]}"; do
    name=${system%%:*} nd=${system##*:}
    xv=$exp/${name}_veri/xvectors
    awk '!seen[$1]++' ${xv}_veri_val/xvector.scp ${xv}_veri_train/xvector.scp | sort > ${xv}_calibration.scp
    train=(--train-vectors ${xv}_veri_train/xvector.scp --train-data $data/veri_train_spec)
    for backend in cosine asnorm plda; do   # RESULTS rows <name>, <name>_asnorm, <name>_plda
      case $backend in
        cosine) row=$name opts=(--backend cosine) ;;
        asnorm) row=${name}_asnorm opts=(--backend cosine --mean-norm false --asnorm-top-n $asnorm_top_n "${train[@]}") ;;
        plda)   row=${name}_plda opts=(--config ${cnn_plda_config:-$plda_config} "${train[@]}") ;;
      esac
      scores=$exp/scores/${name}_$backend
      steps/score.sh "${opts[@]}" $exp/calibration/trials ${xv}_calibration.scp ${scores}_calibration
      for list in $lists; do
        trials=$data/veri_test_spec/trials_$list
        steps/score.sh "${opts[@]}" $trials ${xv}_veri_test/xvector.scp ${scores}_$list
        steps/calibrate.sh $exp/calibration/trials ${scores}_calibration $trials ${scores}_$list ${scores}_${list}_llr
        row_opts=(--exp-root $exp --system $row --trial-list $list --listed-trials $data/veri_test/trials_$list
                  "${recorded[@]}" --config-used "$cnn_config${nd:+ --ndims=$nd}$veri_cnn_data")
        steps/compute_metrics.sh "${row_opts[@]}" $trials ${scores}_$list           # EER, minDCF
        steps/compute_metrics.sh "${row_opts[@]}" --llr true --bootstrap-draws 0 $trials ${scores}_${list}_llr  # Cllr, actDCF
      done
    done
  done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  announce 7 "GMM-UBM baseline (MFCC + CMVN, MAP-adapted speaker models, frame LLR)"
  require_split $data/veri_train_mfcc $data/veri_test_mfcc
  lists=$(trial_lists_in $data/veri_test_mfcc)
  steps/train_ubm.sh --nj $nj --cmd "$cmd" --ubm-config $ubm_config $data/veri_train_mfcc $exp/ubm
  for list in $lists; do
    steps/score_gmm_ubm.sh --nj $nj --cmd "$cmd" $exp/ubm $data/veri_test_mfcc \
      $data/veri_test_mfcc/trials_$list $exp/scores/gmm_ubm_$list
    # (the trials actually scored: those whose utterances had voiced frames)
    steps/compute_metrics.sh --exp-root $exp --system gmm_ubm --trial-list $list \
      --listed-trials $data/veri_test/trials_$list "${recorded[@]}" --config-used $ubm_config \
      --utt2spk $data/veri_test_mfcc/utt2spk $exp/scores/gmm_ubm_$list.trials $exp/scores/gmm_ubm_$list
  done
fi

if [ $stage -le 8 ] && [ $stop_stage -ge 8 ]; then
  announce 8 "i-vector baseline: PLDA for verification, SVM for identification"
  require_split $(for x in $splits; do echo $data/${x}_mfcc; done)
  lists=$(trial_lists_in $data/veri_test_mfcc)
  steps/train_ivector_extractor.sh --nj $nj --cmd "$cmd" --ivector-config $ivector_config \
    $exp/ubm $data/veri_train_mfcc $exp/ivector_extractor
  for x in $splits; do
    steps/extract_ivectors.sh --nj $nj --cmd "$cmd" $exp/ivector_extractor $data/${x}_mfcc $exp/ivectors_$x
  done
  for list in $lists; do
    steps/score.sh --config $plda_config \
      --train-vectors $exp/ivectors_veri_train/ivector.scp --train-data $data/veri_train_mfcc \
      $data/veri_test_mfcc/trials_$list $exp/ivectors_veri_test/ivector.scp $exp/scores/ivector_plda_$list
    steps/compute_metrics.sh --exp-root $exp --system ivector_plda --trial-list $list \
      --dim "$(cat $exp/ivector_extractor/ivector_dim)" --listed-trials $data/veri_test/trials_$list \
      "${recorded[@]}" --config-used "$ivector_config $plda_config" \
      $data/veri_test_mfcc/trials_$list $exp/scores/ivector_plda_$list
  done
  # Identification: SVMs on the i-vectors, and on the i-vectors projected by LDA + PLDA (fitted on iden_train).
  identify_with_svms $exp $data/iden_test ivector ivector.scp $exp/ivectors_ $plda_config \
    "${recorded[@]}" --config-used "$ivector_config $plda_config"
fi

if [ $stage -le 9 ] && [ $stop_stage -ge 9 ]; then
  announce 9 "results"
  steps/show_results.sh $exp
  steps/show_results.sh --paper true $exp
fi
