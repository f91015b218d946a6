#!/usr/bin/env bash
# Feature extraction for a data dir in --nj parallel jobs (called by make_spectrogram.sh and make_mfcc.sh):
#   steps/make_features.sh [options] <kind: spec|mfcc> <data-dir> <log-dir> <feat-dir>
# Writes <feat-dir>/raw_<kind>_<data-name>_<tag>.JOB.{ark,scp} (one per job, atomically; <tag> is a
# checksum of the data dir's absolute path, so data dirs of the same name never share an archive),
# logs in <log-dir>/log/make_<kind>_<data-name>.JOB.log, and, only after every job succeeded,
# <data-dir>/utt2num_frames and then <data-dir>/feats.scp. Features are stored raw (no normalisation).
# A previous feats.scp (and vad.scp, which derives from it) is moved to <data-dir>/.backup first, so
# a run killed half-way leaves none: the dir holds the old features, the new ones, or no feats.scp.
# One run at a time on a data dir (utils/lock.sh).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
feature_config=         # --key=value file for the feature command (conf/spectrogram.conf, conf/mfcc.conf)
max_bad_fraction=0.5    # fail if more than this fraction of the utterances is skipped
compress=false          # true: Kaldi compressed matrices (CM, one byte a value: about 0.27x the size)
help_message="Usage: $0 [--nj N] [--cmd CMD] [--feature-config FILE] [--max-bad-fraction F] [--compress true|false] <spec|mfcc> <data-dir> <log-dir> <feat-dir>"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 4 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
kind=$1 data=$2 logdir=$3/log featdir=$4
case $kind in
  spec) command=pyspk.bin.compute_spectrogram ;;
  mfcc) command=pyspk.bin.compute_mfcc ;;
  *) echo "$0: kind must be spec or mfcc, not $kind" >&2; exit 1 ;;
esac
name=$(basename "$data")
config_opt=()
[ -n "$feature_config" ] && config_opt=(--config "$feature_config")

[ -f "$data/utt2spk" ] || { echo "$0: error: $data/utt2spk missing (not a data dir)" >&2; exit 1; }
. "$PYSPK_ROOT/utils/lock.sh" "$data"
for f in feats.scp utt2num_frames vad.scp feats_source; do   # vad.scp derives from feats.scp;
  # feats_source: the dir's features are its own from now on, no longer cut from another dir's
  if [ -f "$data/$f" ]; then mkdir -p "$data/.backup"; mv "$data/$f" "$data/.backup/$f"; fi
done
"$PYSPK_ROOT/utils/validate_data_dir.sh" "$data" >/dev/null
mkdir -p "$featdir" "$logdir"
featdir=$(cd "$featdir" && pwd)   # absolute, so the scp files work from anywhere
archive=$featdir/raw_${kind}_${name}_$(realpath "$data" | md5sum | cut -c1-8)
rm -f "$archive".*.scp "$logdir/utt2num_frames_$name".*   # of an earlier run; and killed jobs' temp files:
python -m pyspk.bin.remove_stale_temps --prefix true "$archive"
python -m pyspk.bin.remove_stale_temps --prefix true "$logdir/utt2num_frames_$name"
"$PYSPK_ROOT/utils/split_data.sh" "$data" "$nj"

# Single-threaded numerics in each job (the parallelism is the jobs); set for the jobs only, as
# nproc, which the local launcher asks for its number of slots, honours OMP_NUM_THREADS.
one_thread="env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1"
$cmd JOB=1:$nj "$logdir/make_${kind}_$name.JOB.log" \
  $one_thread python -m $command "${config_opt[@]}" --compress "$compress" --utt2num-frames "$logdir/utt2num_frames_$name.JOB" \
    "$data/split$nj/JOB" "$archive.JOB.ark" "$archive.JOB.scp"

python -m pyspk.bin.combine_feature_parts --nj "$nj" --max-bad-fraction "$max_bad_fraction" \
  --num-frames-pattern "$logdir/utt2num_frames_$name.JOB" \
  "$data" feats.scp "$archive.JOB.scp"
echo "$0: $kind features for $data in $featdir (skipped utterances: WARNING lines in $logdir/make_${kind}_$name.*.log)"
