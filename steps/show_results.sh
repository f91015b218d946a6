#!/usr/bin/env bash
# Print <exp-root>/RESULTS and draw the DET curves of every scored system into <exp-root>/det.png;
# --paper true: print Yadav & Rai (2018)'s Tables 4 and 5 with our figures beside the paper's.
set -euo pipefail
echo "$0 $@" >&2  # the command line, into the log (stdout is the report)
. "$(dirname "$0")/../path.sh"

paper=false   # true: the paper's Tables 4 and 5 (paper's figure, ours, corpus and config) instead of RESULTS
help_message="Usage: $0 [--paper true|false] <exp-root>"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 1 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.show_results --paper "$paper" "$1"
