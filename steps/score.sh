#!/usr/bin/env bash
# Score a trial list with embeddings (cosine or PLDA), writing <scores-out> in trial order.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

backend=cosine        # cosine (the paper's) | plda
train_vectors=        # train-set vectors: mean, LDA/PLDA training data, AS-norm cohort
train_data=           # data dir whose utt2spk labels --train-vectors
lda_dim=0             # LDA to this dim first (0: none)
mean_norm=auto        # subtract the train-set mean (auto: true when --train-vectors is given)
length_norm=true      # length-normalise (after mean and LDA)
asnorm_top_n=0        # adaptive s-norm with the top-N cohort scores (0: off)
help_message="Usage: $0 [options] <trials> <vectors.scp> <scores-out>
 e.g.: $0 --backend plda --train-vectors exp/xvec/veri_train/xvector.scp --train-data data/veri_train \\
          --lda-dim 100 data/veri_test/trials exp/xvec/veri_test/xvector.scp exp/xvec/scores_plda
Options: --backend cosine|plda --train-vectors SCP --train-data DIR --lda-dim N
         --mean-norm auto|true|false --length-norm true|false --asnorm-top-n N"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
trials=$1 vectors=$2 scores=$3

. "$PYSPK_ROOT/utils/lock.sh" "$scores"   # one writer at a time (a second run fails at once)
python -m pyspk.bin.score --backend "$backend" \
  --train-vectors "$train_vectors" --train-data "$train_data" --lda-dim "$lda_dim" \
  --mean-norm "$mean_norm" --length-norm "$length_norm" --asnorm-top-n "$asnorm_top_n" \
  "$trials" "$vectors" "$scores"
