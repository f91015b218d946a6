#!/usr/bin/env bash
# Stage 0: Kaldi data dirs from VoxCeleb1 (wav/<spk>/<session>/<n>.wav|flac|m4a, iden_split.txt, any of
# the trial lists veri_test.txt, veri_test2.txt, list_test_{all,hard}{,2}.txt, optional vox1_meta.csv|meta.csv)
# and optionally a VoxCeleb2 dev training corpus (aac/<spk>/<video>/<n>.m4a, optional vox2_meta.csv).
# Writes <data-root>/{all,iden_train,iden_val,iden_test,veri_train,veri_val,veri_test}, veri_test with
# trials_<list> for each trial list (vox1_O, vox1_O_clean, vox1_E, ...; trials = vox1_O), each with
# wav.scp, utt2spk, spk2utt, utt2dur and spk2gender where known, checked as written (sorted, unique, utterance ids
# starting with their speaker's; every table from the same utterances), so a million utterances need no re-read. A split that
# cannot be made (e.g. veri_train from VoxCeleb1's test part alone) is warned about and not written.
# Missing or unreadable files are reported (utterance, file, reason) and left out.
set -euo pipefail
echo "$0 $@"
. "$(dirname "$0")/../path.sh"

train_corpus_root=     # VoxCeleb2 dev layout: the verification training corpus ("": VoxCeleb1's non-test speakers)
trial_lists=           # comma-separated trial lists to use, e.g. vox1_O,vox1_O_clean ("": every one present)
max_bad_fraction=0.5   # fail if more than this fraction of the listed utterances is unusable
num_threads=16         # threads reading audio headers
help_message="Usage: $0 [--train-corpus-root DIR] [--trial-lists L1,L2] [--max-bad-fraction F] [--num-threads N]
  <corpus-root> <data-root>
  e.g.: $0 egs/demo/corpus data
        $0 --train-corpus-root /data/VoxCeleb2 /data/VoxCeleb1 data"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 2 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.prepare_voxceleb1 --train-corpus-root "$train_corpus_root" --trial-lists "$trial_lists" \
  --max-bad-fraction "$max_bad_fraction" --num-threads "$num_threads" "$1" "$2"
