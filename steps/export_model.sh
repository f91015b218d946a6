#!/usr/bin/env bash
# Export <exp-dir>/final.pt as a TorchScript module <out> mapping (batch, samples) 16 kHz float
# waveforms to embeddings, the spectrogram and its normalisation included: torch.jit.load(<out>)
# embeds audio without pyspk, equal to steps/extract_embeddings.sh's embedding of the same file.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

help_message="Usage: $0 <exp-dir> <out>
 e.g.: $0 exp/cnn_b_joint_veri exp/cnn_b_joint_veri/embedder.ts.pt"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 2 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi
[ -f "$1/final.pt" ] || { echo "$0: expected $1/final.pt" >&2; exit 1; }

python -m pyspk.bin.export_model "$1" "$2"
