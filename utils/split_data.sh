#!/usr/bin/env bash
# Usage: utils/split_data.sh <data-dir> <num-parts>   -> <data-dir>/split<N>/<1..N>, each a data dir.
set -euo pipefail
. "$(dirname "$0")/../path.sh"
exec python -m pyspk.bin.split_data_dir "$@"
