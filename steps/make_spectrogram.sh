#!/usr/bin/env bash
# Log power spectrograms (docs/design.md §1: Hamming 20 ms, hop 10 ms, 161 bins, centred; 3 s -> 301 x 161):
#   steps/make_spectrogram.sh [--nj N] [--cmd CMD] [--spectrogram-config FILE] [--max-bad-fraction F] \
#     <data-dir> <log-dir> <feat-dir>
# e.g. steps/make_spectrogram.sh --nj 4 --spectrogram-config conf/spectrogram.conf data/all_spec exp/make_spectrogram feats/spec
# Writes <data-dir>/feats.scp (raw log power, frames x 161; normalise per utterance where used).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
spectrogram_config=$PYSPK_ROOT/conf/spectrogram.conf
max_bad_fraction=0.5
compress=false   # true: Kaldi compressed matrices (CM), about 0.27x the size
help_message="Usage: $0 [--nj N] [--cmd CMD] [--spectrogram-config FILE] [--max-bad-fraction F] [--compress true|false] <data-dir> <log-dir> <feat-dir>"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

exec "$PYSPK_ROOT/steps/make_features.sh" --nj "$nj" --cmd "$cmd" --feature-config "$spectrogram_config" \
  --max-bad-fraction "$max_bad_fraction" --compress "$compress" spec "$@"
