#!/usr/bin/env bash
# Print <exp-root>/RESULTS and draw the DET curves of every scored system into <exp-root>/det.png.
set -euo pipefail
echo "$0 $@" >&2  # the command line, into the log (stdout is the report)
. "$(dirname "$0")/../path.sh"

help_message="Usage: $0 <exp-root>"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 1 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.show_results "$1"
