#!/usr/bin/env bash
# Usage: utils/check_disjoint_speakers.sh <train-data-dir> <test-data-dir>
# Fails, naming the speakers, if a speaker of the test dir is also in the train dir: a model trained
# on test speakers would make verification results meaningless.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <train-data-dir> <test-data-dir>" >&2; exit 1; }
shared=$(LC_ALL=C comm -12 <(cut -d' ' -f1 "$1/spk2utt" | LC_ALL=C sort) <(cut -d' ' -f1 "$2/spk2utt" | LC_ALL=C sort))
if [ -n "$shared" ]; then
  echo "$0: $(echo "$shared" | wc -l) speaker(s) of $2 are also in $1: $(echo $shared | head -c 200)" >&2
  exit 1
fi
echo "$0: no speaker of $2 is in $1 ($(wc -l < "$1/spk2utt") train, $(wc -l < "$2/spk2utt") test speakers)"
