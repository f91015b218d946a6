#!/usr/bin/env bash
# Print EER (Kaldi's compute-eer), minDCF at p-target 0.01, 0.001, 0.05 (Kaldi's compute_min_dcf.py),
# Cllr, minCllr, actDCF (BOSARIS; scores taken as natural-log LLRs) and a 95% interval of the EER
# (bootstrap over the trials' speakers) of a score file; with --system also record them in
# <exp-root>/RESULTS (EER/minDCF, or with --llr true, for calibrated scores, Cllr/minCllr/actDCF).
set -euo pipefail
echo "$0 $@" >&2  # the command line, into the log (stdout is the report)
. "$(dirname "$0")/../path.sh"

exp_root=exp     # experiment dir holding RESULTS
system=          # record under this system name ("" = print only)
trial_list=      # with --system: the trial list's name, a RESULTS row of its own (e.g. vox1_O)
dim=0            # embedding dimension to record
params=0         # model parameter count to record
llr=false        # the scores are calibrated LLRs (steps/calibrate.sh): record the calibration costs
utt2spk=         # speakers of the trial ids, for the EER interval (default: <trials' dir>/utt2spk)
bootstrap_draws=1000  # speaker resamplings for the EER interval (0: none)
seed=0           # seed of the resampling
listed_trials=   # the list the figures are for (default: <trials>): RESULTS records trials scored / listed
corpus=          # corpus recorded with the RESULTS row
config_used=     # config file(s) recorded with the RESULTS row
help_message="Usage: $0 [--exp-root exp --system NAME --trial-list NAME --dim D --params P --llr true|false --utt2spk FILE
          --bootstrap-draws N --seed S --listed-trials FILE --corpus TEXT --config-used TEXT] <trials> <scores>
 e.g.: $0 --system netB_joint --dim 128 data/veri_test/trials exp/netB_joint/scores_cosine"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 2 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.compute_metrics --exp-root "$exp_root" --system "$system" --trial-list "$trial_list" --dim "$dim" \
  --params "$params" --llr "$llr" --utt2spk "$utt2spk" --bootstrap-draws "$bootstrap_draws" --seed "$seed" \
  --listed-trials "$listed_trials" --corpus "$corpus" --config-used "$config_used" "$1" "$2"
