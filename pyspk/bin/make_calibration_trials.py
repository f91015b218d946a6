"""A calibration trial list among development utterances (never the test trials):

    python -m pyspk.bin.make_calibration_trials [--enroll-data DIR] [--max-targets 20000]
        [--nontarget-ratio 10] [--seed 0] <data-dir> <trials-out>

Test sides are the utterances of <data-dir>/utt2spk, enrollment sides those of --enroll-data
(default: <data-dir> itself); every same-speaker pair (or --max-targets of them, drawn), and
--nontarget-ratio times as many different-speaker pairs drawn at random (0: every one of them, a
complete development list); seeded, deterministic.
Writes Kaldi ``enroll test target|nontarget`` lines, atomically.
"""
import dataclasses
import logging

import numpy as np

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.calibration import calibration_trials
from pyspk.io.datadir import DataDir
from pyspk.io.trials import Trials, write_trials

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Make a calibration trial list from development speakers' utterances."""
    enroll_data: str = ""          # data dir of the enrollment sides ("" = <data-dir>)
    max_targets: int = 20000       # target trials drawn when there are more (0 = all)
    nontarget_ratio: float = 10.0  # non-target trials per target trial (0 = every different-speaker pair)
    seed: int = 0                  # random seed of the draws


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["data_dir", "trials_out"])
    test = DataDir(args.data_dir).utt2spk
    enroll = DataDir(opts.enroll_data).utt2spk if opts.enroll_data else test
    rows = calibration_trials(enroll, test, opts.max_targets, opts.nontarget_ratio, opts.seed)
    write_trials(args.trials_out, Trials([r[0] for r in rows], [r[1] for r in rows],
                                         np.array([r[2] for r in rows], dtype=bool), args.trials_out))
    n_tar = sum(r[2] for r in rows)
    logger.info(f"make_calibration_trials: {len(rows)} trials ({n_tar} target) among "
                f"{len(set(enroll) | set(test))} utterances -> {args.trials_out}")


if __name__ == "__main__":
    run_command(main)
