#!/usr/bin/env bash
# See `python -m pyspk.bin.fix_data_dir --help`.
set -euo pipefail
. "$(dirname "$0")/../path.sh"
exec python -m pyspk.bin.fix_data_dir "$@"
