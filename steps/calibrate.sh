#!/usr/bin/env bash
# Calibrate a system's scores into log-likelihood ratios: fit llr = a * score + b (prior-weighted
# logistic regression, as BOSARIS) on the scores of a calibration trial list among development
# speakers (made by python -m pyspk.bin.make_calibration_trials, scored by steps/score.sh exactly
# as the test trials), then write a * score + b for every test trial to <llr-out>.
set -euo pipefail
echo "$0 $@"  # the command line, into the log
. "$(dirname "$0")/../path.sh"

prior=0.5     # target prior of the logistic-regression objective (0.5: minimises Cllr)
help_message="Usage: $0 [--prior P] <cal-trials> <cal-scores> <trials> <scores> <llr-out>
 e.g.: $0 data/veri_val_spec/trials_calibration exp/scores/cnn_b_joint_cosine_cal \\
          data/veri_test_spec/trials exp/scores/cnn_b_joint_cosine exp/scores/cnn_b_joint_cosine_llr"
. "$PYSPK_ROOT/utils/parse_options.sh"
if [ $# -ne 5 ]; then printf '%s\n' "$help_message" >&2; exit 1; fi

python -m pyspk.bin.calibrate --prior "$prior" "$@"
