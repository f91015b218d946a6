#!/usr/bin/env bash
# GMM-UBM verification: MAP-adapt the UBM's means to each enrolment utterance (relevance factor) and
# score each trial by the test utterance's average frame log-likelihood ratio against the UBM (top-C
# Gaussian selection). Trials are split into --nj contiguous parts scored in parallel; <scores-out>
# lists them in trial order. Trials whose utterances have no usable frames are reported and left
# out; <scores-out>.trials always lists the trials scored (compute metrics on it).
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

nj=4
cmd=$PYSPK_ROOT/utils/run_local.sh
relevance_factor=16
top_c=5
device=auto
help_message="Usage: $0 [options] <ubm-dir> <data-dir> <trials> <scores-out>
 e.g.: $0 --nj 4 exp/ubm data/veri_test_mfcc data/veri_test_mfcc/trials exp/gmm_ubm/scores
Options: --nj N --cmd CMD --relevance-factor R --top-c C --device D"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 4 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
ubmdir=$1 data=$2 trials=$3 scores=$4

for f in "$ubmdir/final.ubm" "$ubmdir/frame_opts" "$data/feats.scp" "$data/vad.scp" "$trials"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
logdir=$(dirname "$scores")/log
mkdir -p "$logdir"
$cmd JOB=1:"$nj" "$logdir/score_gmm_ubm.JOB.log" python -m pyspk.bin.score_gmm_ubm \
  --config "$ubmdir/frame_opts" --relevance-factor "$relevance_factor" --top-c "$top_c" \
  --device "$device" --job JOB --num-jobs "$nj" "$ubmdir/final.ubm" "$data" "$trials" "$scores.JOB"
# Each job wrote its scores and the trials it scored (<scores>.JOB.trials); join both in job order.
for j in $(seq 1 "$nj"); do cat "$scores.$j"; done > "$scores.tmp"
for j in $(seq 1 "$nj"); do cat "$scores.$j.trials"; done > "$scores.trials.tmp"
rm -f "$scores".[0-9]*
mv "$scores.trials.tmp" "$scores.trials"
mv "$scores.tmp" "$scores"
n_scored=$(wc -l < "$scores") n_trials=$(wc -l < "$trials")
if [ "$n_scored" -ne "$n_trials" ]; then
  echo "$0: WARNING: scored $n_scored of $n_trials trials (see $logdir/score_gmm_ubm.*.log)" >&2
fi
echo "$0: wrote $scores and the trials scored, $scores.trials ($n_scored of $n_trials)"
