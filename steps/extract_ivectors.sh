#!/usr/bin/env bash
# Extract i-vectors of a data dir's utterances with the extractor of <extractor-dir>, in --nj parallel
# jobs: <out-dir>/ivector.JOB.ark and <out-dir>/ivector.scp (one float32 vector per utterance), plus
# copies of the data dir's utt2spk and spk2utt (the speaker labels that go with the vectors).
# A previous ivector.scp is moved to <out-dir>/.backup first and the new one appears only after every
# job succeeded. One run at a time on <out-dir> (utils/lock.sh).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
device=auto
help_message="Usage: $0 [options] <extractor-dir> <data-dir> <out-dir>
 e.g.: $0 --nj 4 exp/extractor data/veri_test_mfcc exp/ivectors_veri_test
Options: --nj N --cmd CMD --device D"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
srcdir=$1 data=$2 dir=$3

for f in "$srcdir/final.ie" "$srcdir/extract_opts" "$data/feats.scp" "$data/vad.scp"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
mkdir -p "$dir/log"
dir=$(cd "$dir" && pwd)
. "$PYSPK_ROOT/utils/lock.sh" "$dir"
if [ -f "$dir/ivector.scp" ]; then mkdir -p "$dir/.backup"; mv "$dir/ivector.scp" "$dir/.backup/ivector.scp"; fi
rm -f "$dir"/ivector.[0-9]*.scp   # of an earlier run (utils/lock.sh removed killed jobs' temp files)
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj" >/dev/null
sdata=$data/split$nj

$cmd JOB=1:"$nj" "$dir/log/extract_ivectors.JOB.log" python -m pyspk.bin.extract_ivectors \
  --config "$srcdir/extract_opts" --device "$device" "$srcdir/final.ie" "$sdata/JOB" \
  "$dir/ivector.JOB.ark" "$dir/ivector.JOB.scp"
cp "$data/utt2spk" "$data/spk2utt" "$dir/"
for j in $(seq 1 "$nj"); do cat "$dir/ivector.$j.scp"; done | sort > "$dir/ivector.scp.tmp"
mv "$dir/ivector.scp.tmp" "$dir/ivector.scp"
rm -f "$dir"/ivector.[0-9]*.scp
echo "$0: wrote $dir/ivector.scp ($(wc -l < "$dir/ivector.scp") of $(wc -l < "$data/utt2spk") utterances)"
