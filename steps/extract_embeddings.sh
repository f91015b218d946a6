#!/usr/bin/env bash
# Embeddings of every utterance of a data dir: the bottleneck (before dropout) of <exp-dir>/final.pt,
# full-length utterances batched by similar length. Works on any spectrogram data dir.
# Writes <xvector-dir>/{xvector.scp, xvector.JOB.ark, spk_xvector.scp, spk_xvector.ark, log/extract.JOB.log}
# and copies of the data dir's utt2spk and spk2utt (the speaker labels that go with the vectors).
# Previous xvector.scp / spk_xvector.scp are moved to <xvector-dir>/.backup first; xvector.scp appears
# only after every job succeeded, then spk_xvector.scp: a killed or failed run leaves no scp that mixes
# two runs. One run at a time on <xvector-dir> (utils/lock.sh).
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
. "$PYSPK_ROOT/utils/lock.sh" "$dir"
for f in xvector.scp spk_xvector.scp; do
  if [ -f "$dir/$f" ]; then mkdir -p "$dir/.backup"; mv "$dir/$f" "$dir/.backup/$f"; fi
done
rm -f "$dir"/xvector.*.scp   # of an earlier run (utils/lock.sh removed killed jobs' temp files)
num_utts=$(wc -l < "$data/utt2spk")
[ "$nj" -le "$num_utts" ] || nj=$num_utts
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj"

# Each job uses torch's threads; the parallelism is the jobs.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
$cmd JOB=1:$nj "$dir/log/extract.JOB.log" \
  python -m pyspk.bin.extract_embeddings --job JOB --max-frames "$max_frames" --device "$device" \
    "$exp/final.pt" "$data/split$nj/JOB" "$dir"

cp "$data/utt2spk" "$data/spk2utt" "$dir/"
for j in $(seq 1 "$nj"); do cat "$dir/xvector.$j.scp"; done | sort > "$dir/xvector.scp.tmp"
mv "$dir/xvector.scp.tmp" "$dir/xvector.scp"
python -m pyspk.bin.extract_embeddings --speaker-means true "$exp/final.pt" "$data" "$dir" \
  > "$dir/log/speaker_means.log"
echo "$0: $(wc -l < "$dir/xvector.scp") embeddings of $data in $dir/xvector.scp, $(cat "$dir/log/speaker_means.log")"
