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
help_message="Usage: $0 [--exp-root DIR] [--system NAME] [--max-frames N] [--device auto|cpu|cuda] <exp-dir> <test-data>
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
  --device "$device" "$exp/final.pt" "$data" 2>&1 | tee "$exp/log/identify_$(basename "$data").log"
