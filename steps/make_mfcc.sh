#!/usr/bin/env bash
# Kaldi-style MFCCs for the GMM-UBM and i-vector baselines (13 coefficients, c0 = log energy):
#   steps/make_mfcc.sh [--nj N] [--cmd CMD] [--mfcc-config FILE] [--max-bad-fraction F] \
#     <data-dir> <log-dir> <feat-dir>
# e.g. steps/make_mfcc.sh --nj 4 --mfcc-config conf/mfcc.conf data/all_mfcc exp/make_mfcc feats/mfcc
# Writes <data-dir>/feats.scp (raw: apply CMVN / deltas / VAD where used).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
mfcc_config=$PYSPK_ROOT/conf/mfcc.conf
max_bad_fraction=0.5
compress=false   # true: Kaldi compressed matrices (CM), about 0.27x the size
help_message="Usage: $0 [--nj N] [--cmd CMD] [--mfcc-config FILE] [--max-bad-fraction F] [--compress true|false] <data-dir> <log-dir> <feat-dir>"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

exec "$PYSPK_ROOT/steps/make_features.sh" --nj "$nj" --cmd "$cmd" --feature-config "$mfcc_config" \
  --max-bad-fraction "$max_bad_fraction" --compress "$compress" mfcc "$@"
