#!/usr/bin/env bash
# Closed-set speaker identification with one-vs-rest linear SVMs on L2-normalised i-vectors: train on
# <train-dir>, choose C on <val-dir>, print (and with --system record) top-1/top-5 on <test-dir>.
# Each dir is an output of steps/extract_ivectors.sh (ivector.scp + utt2spk).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

c_grid=0.01,0.1,1,10,100
exp_root=exp
system=
help_message="Usage: $0 [options] <train-dir> <val-dir> <test-dir>
 e.g.: $0 --system ivector_svm exp/ivectors_iden_train exp/ivectors_iden_val exp/ivectors_iden_test
Options: --c-grid C1,C2,... --exp-root DIR --system NAME"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.identify_svm --c-grid "$c_grid" --exp-root "$exp_root" --system "$system" "$1" "$2" "$3"
