"""Calibrate a system's scores into log-likelihood ratios (see ``pyspk.calibration``):

    python -m pyspk.bin.calibrate [--prior 0.5] <cal-trials> <cal-scores> <trials> <scores> <llr-out>

Fits llr = a * score + b on the calibration trials' scores (development speakers, scored the
same way as the test trials), then writes a * score + b for every trial of <scores> to
<llr-out> (``enroll test llr`` lines in trial order, atomically).
"""
import dataclasses
import logging

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.calibration import fit_calibration
from pyspk.io.trials import read_scores, read_trials, write_scores

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Fit a logistic-regression calibration on calibration trials and apply it to a score file."""
    prior: float = 0.5   # target prior of the training objective (0.5: minimises Cllr)


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["cal_trials", "cal_scores", "trials", "scores", "llr_out"])
    cal_trials = read_trials(args.cal_trials)
    cal_scores, _ = read_scores(args.cal_scores, cal_trials)
    calibration = fit_calibration(cal_scores, cal_trials.target, opts.prior)
    trials = read_trials(args.trials)
    scores, _ = read_scores(args.scores, trials)
    write_scores(args.llr_out, trials, calibration(scores))
    logger.info(f"calibrate: {len(trials)} calibrated scores -> {args.llr_out}")


if __name__ == "__main__":
    run_command(main)
