#!/usr/bin/env bash
# Paste <results> (default exp/RESULTS, the table steps/show_results.sh prints) between the
# <!-- RESULTS:BEGIN --> and <!-- RESULTS:END --> lines of README.md and docs/*.md, so the docs'
# figures are generated, never typed. Run from the recipe root after ./run.sh.
set -euo pipefail
. ./path.sh

help_message="Usage: $0 [<results-file>]   (default exp/RESULTS)"
. utils/parse_options.sh
if [ $# -gt 1 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
results=${1:-exp/RESULTS}
[ -f "$results" ] || { echo "$0: no such file $results (run ./run.sh first)" >&2; exit 1; }

for doc in README.md docs/*.md; do
  python -m pyspk.bin.update_docs_results "$results" "$doc"
done
