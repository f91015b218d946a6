#!/usr/bin/env bash
# Closed-set speaker identification with one-vs-rest linear SVMs on L2-normalised utterance vectors:
# train on <train-dir>, choose C on <val-dir>, print (and with --system record) top-1/top-5 on <test-dir>.
# Each dir is an output of steps/extract_ivectors.sh (ivector.scp + utt2spk), or with
# --vectors xvector.scp of steps/extract_embeddings.sh (CNN embeddings).
# --projection plda: the paper's "I-vectors + PLDA + SVM" (SVM on PLDA-projected vectors).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

c_grid=0.01,0.1,1,10,100
vectors=ivector.scp   # the scp in each dir: ivector.scp | xvector.scp
projection=none       # none | lda | plda: project the vectors (fitted on <train-dir>) before the SVM
lda_dim=0             # LDA dim for --projection lda|plda (0: PLDA without LDA)
exp_root=exp
system=
listed_data=          # data dir of the test list the figure is for (default: <test-dir>)
max_bad_fraction=0.5  # fail when more than this fraction of a dir's utterances has no vector
corpus=               # corpus recorded with the RESULTS row
config_used=          # config file(s) recorded with the RESULTS row
help_message="Usage: $0 [options] <train-dir> <val-dir> <test-dir>
 e.g.: $0 --system ivector_svm exp/ivectors_iden_train exp/ivectors_iden_val exp/ivectors_iden_test
Options: --c-grid C1,C2,... --vectors ivector.scp|xvector.scp --projection none|lda|plda --lda-dim N --exp-root DIR --system NAME
         --listed-data DIR --max-bad-fraction F --corpus TEXT --config-used TEXT"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.identify_svm --c-grid "$c_grid" --vectors "$vectors" --projection "$projection" --lda-dim "$lda_dim" \
  --exp-root "$exp_root" --system "$system" --listed-data "$listed_data" \
  --max-bad-fraction "$max_bad_fraction" --corpus "$corpus" --config-used "$config_used" "$1" "$2" "$3"
