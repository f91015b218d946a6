#!/usr/bin/env bash
# Paste <results> (default exp/RESULTS, the table steps/show_results.sh prints) between the
# <!-- RESULTS:BEGIN --> and <!-- RESULTS:END --> lines of README.md and docs/*.md, so the docs'
# figures are generated, never typed; likewise <results>'s sibling PAPER_TABLES (the paper's Tables 4
# and 5 beside ours) between the PAPER_TABLES markers. Run from the recipe root after ./run.sh.
# --marker NAME pastes a run's tables between the NAME and NAME_PAPER_TABLES markers instead (a second
# run documented beside the demo's, e.g. --marker SO762 exp_so762/RESULTS).
set -euo pipefail
. ./path.sh

marker=RESULTS
help_message="Usage: $0 [--marker NAME] [<results-file>]   (default exp/RESULTS)"
. utils/parse_options.sh
paper_marker=PAPER_TABLES
[ "$marker" = RESULTS ] || paper_marker=${marker}_PAPER_TABLES
if [ $# -gt 1 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
results=${1:-exp/RESULTS}
[ -f "$results" ] || { echo "$0: no such file $results (run ./run.sh first)" >&2; exit 1; }

for doc in README.md docs/*.md; do
  python -m pyspk.bin.update_docs_results --marker "$marker" "$results" "$doc"
done
# The paper's Tables 4 and 5 beside ours, as stage 9 wrote them beside the RESULTS file.
paper=$(dirname "$results")/PAPER_TABLES
if [ -f "$paper" ]; then
  for doc in README.md docs/*.md; do
    python -m pyspk.bin.update_docs_results --marker "$paper_marker" "$paper" "$doc"
  done
fi
