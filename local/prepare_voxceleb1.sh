#!/usr/bin/env bash
# Stage 0: Kaldi data dirs from a corpus in VoxCeleb1 layout
# (wav/<spk>/<session>/<n>.wav|flac|m4a, iden_split.txt, veri_test.txt, optional vox1_meta.csv|meta.csv).
# Writes <data-root>/{all,iden_train,iden_val,iden_test,veri_train,veri_test} (+ veri_test/trials),
# each with wav.scp, utt2spk, spk2utt, utt2dur and spk2gender where known, and validates them.
# Missing or unreadable files are reported (utterance, file, reason) and left out.
set -euo pipefail
. ./path.sh

max_bad_fraction=0.5   # fail if more than this fraction of the listed utterances is unusable
num_threads=16         # threads reading audio headers
help_message="Usage: $0 [--max-bad-fraction F] [--num-threads N] <corpus-root> <data-root>
  e.g.: $0 egs/demo/corpus data"
. utils/parse_options.sh
if [ $# -ne 2 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.prepare_voxceleb1 --max-bad-fraction "$max_bad_fraction" --num-threads "$num_threads" "$1" "$2"
