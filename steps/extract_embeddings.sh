#!/usr/bin/env bash
# Embeddings of every utterance of a data dir: the bottleneck (before dropout) of <exp-dir>/final.pt,
# full-length utterances batched by similar length. Works on any spectrogram data dir.
# Writes <xvector-dir>/{xvector.scp, xvector.JOB.ark, spk_xvector.scp, spk_xvector.ark, log/extract.JOB.log}.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
max_frames=0       # padded frames per batch of similar lengths (0: 40000 on GPU, 1 on CPU)
device=auto        # auto | cpu | cuda
help_message="Usage: $0 [--nj N] [--cmd CMD] [--max-frames N] [--device auto|cpu|cuda] <exp-dir> <data-dir> <xvector-dir>
 e.g.: $0 --nj 4 exp/cnn_b_veri data/veri_test_spec exp/cnn_b_veri/xvectors_veri_test"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
exp=$1 data=$2 dir=$3

for f in "$exp/final.pt" "$data/feats.scp" "$data/utt2spk"; do
  [ -f "$f" ] || { echo "$0: expected $f" >&2; exit 1; }
done
mkdir -p "$dir/log"
num_utts=$(wc -l < "$data/utt2spk")
[ "$nj" -le "$num_utts" ] || nj=$num_utts
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj"
rm -f "$dir"/xvector.*.scp

# Each job uses torch's threads; the parallelism is the jobs.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
$cmd JOB=1:$nj "$dir/log/extract.JOB.log" \
  python -m pyspk.bin.extract_embeddings --job JOB --max-frames "$max_frames" --device "$device" \
    "$exp/final.pt" "$data/split$nj/JOB" "$dir"

cat "$dir"/xvector.*.scp | sort > "$dir/xvector.scp.tmp"
mv "$dir/xvector.scp.tmp" "$dir/xvector.scp"
python -m pyspk.bin.extract_embeddings --speaker-means true "$exp/final.pt" "$data" "$dir" \
  > "$dir/log/speaker_means.log"
echo "$0: $(wc -l < "$dir/xvector.scp") embeddings of $data in $dir/xvector.scp, $(cat "$dir/log/speaker_means.log")"
