#!/usr/bin/env bash
# Closed-set identification with <exp-dir>/final.pt on the full-length utterances of <test-data>:
# prints "top-1: X%" and "top-5: Y%", and records them in <exp-root>/RESULTS under --system.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

exp_root=exp       # where RESULTS lives
system=            # row name in RESULTS (default: the exp-dir's name)
max_frames=0       # padded frames per batch (0: 40000 on GPU, 1 on CPU)
device=auto        # auto | cpu | cuda
listed_data=       # data dir of the list the figure is for (default: <test-data>): utterances scored / listed
max_bad_fraction=0.5  # fail when more than this fraction of the listed utterances is not scored
corpus=            # corpus recorded with the RESULTS row
config_used=       # config file(s) recorded with the RESULTS row
help_message="Usage: $0 [--exp-root DIR] [--system NAME] [--max-frames N] [--device auto|cpu|cuda]
   [--listed-data DIR] [--max-bad-fraction F] [--corpus TEXT] [--config-used TEXT] <exp-dir> <test-data>
 e.g.: $0 --exp-root exp --system cnn_b_joint exp/cnn_b_joint data/iden_test_spec"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 2 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
exp=$1 data=$2
[ -n "$system" ] || system=$(basename "$exp")

for f in "$exp/final.pt" "$data/feats.scp" "$data/utt2spk"; do
  [ -f "$f" ] || { echo "$0: expected $f" >&2; exit 1; }
done
mkdir -p "$exp/log"
python -m pyspk.bin.identify_cnn --exp-root "$exp_root" --system "$system" --max-frames "$max_frames" \
  --device "$device" --listed-data "$listed_data" --max-bad-fraction "$max_bad_fraction" \
  --corpus "$corpus" --config-used "$config_used" "$exp/final.pt" "$data" 2>&1 | tee "$exp/log/identify_$(basename "$data").log"
