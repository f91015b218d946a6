#!/usr/bin/env bash
# Kaldi energy VAD on MFCCs (c0 = log energy), in --nj parallel jobs:
#   steps/compute_vad_decision.sh [--nj N] [--cmd CMD] [--vad-config FILE] [--max-bad-fraction F] \
#     <data-dir> <log-dir> <vad-dir>
# e.g. steps/compute_vad_decision.sh --nj 4 --vad-config conf/vad.conf data/all_mfcc exp/make_vad feats/vad
# Needs <data-dir>/feats.scp (steps/make_mfcc.sh). Writes <vad-dir>/vad_<data-name>_<tag>.JOB.{ark,scp}
# (one float32 vector a utterance: 1.0 voiced, 0.0 not; <tag>: a checksum of the data dir's absolute
# path) and, only after every job succeeded, <data-dir>/vad.scp. A previous vad.scp is moved to
# <data-dir>/.backup first. One run at a time on a data dir (utils/lock.sh).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
vad_config=$PYSPK_ROOT/conf/vad.conf
max_bad_fraction=0.5
help_message="Usage: $0 [--nj N] [--cmd CMD] [--vad-config FILE] [--max-bad-fraction F] <data-dir> <log-dir> <vad-dir>"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 3 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
data=$1 logdir=$2/log vaddir=$3
name=$(basename "$data")

[ -f "$data/feats.scp" ] || { echo "$0: $data/feats.scp missing (run steps/make_mfcc.sh first)" >&2; exit 1; }
. "$PYSPK_ROOT/utils/lock.sh" "$data"
if [ -f "$data/vad.scp" ]; then mkdir -p "$data/.backup"; mv "$data/vad.scp" "$data/.backup/vad.scp"; fi
mkdir -p "$vaddir" "$logdir"
vaddir=$(cd "$vaddir" && pwd)
archive=$vaddir/vad_${name}_$(realpath "$data" | md5sum | cut -c1-8)
rm -f "$archive".*.scp   # of an earlier run; and killed jobs' temp files:
python -m pyspk.bin.remove_stale_temps --prefix true "$archive"
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj"

# Single-threaded numerics in each job (the parallelism is the jobs); set for the jobs only, as
# nproc, which the local launcher asks for its number of slots, honours OMP_NUM_THREADS.
one_thread="env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1"
$cmd JOB=1:$nj "$logdir/vad_$name.JOB.log" \
  $one_thread python -m pyspk.bin.compute_vad --config "$vad_config" \
    "$data/split$nj/JOB" "$archive.JOB.ark" "$archive.JOB.scp"

python -m pyspk.bin.combine_feature_parts --nj "$nj" --max-bad-fraction "$max_bad_fraction" \
  "$data" vad.scp "$archive.JOB.scp"
echo "$0: VAD decisions for $data in $vaddir (logs: $logdir/vad_$name.*.log)"
