#!/usr/bin/env bash
# Speed perturbation of a training data dir, each copy a new speaker (Kaldi's perturb_data_dir_speed_3way.sh):
#   utils/perturb_data_dir_speed.sh [--factors "0.9 1.1"] <src-data> <dst-data> <audio-dir>
# See `python -m pyspk.bin.perturb_data_dir_speed --help`.
set -euo pipefail
. "$(dirname "$0")/../path.sh"
echo "$0 $*"
exec python -m pyspk.bin.perturb_data_dir_speed "$@"
