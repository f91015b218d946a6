"""Accumulate a GMM's EM statistics (diagonal or full covariance) over a data dir's frames (one
parallel job's share).

    python -m pyspk.bin.acc_gmm_stats [options] <gmm> <data-dir> <stats-out>
"""
import dataclasses
import logging

import torch

from pyspk.backend.frames import FrameOptions, frame_blocks, iter_frames
from pyspk.backend.full_gmm import load_ubm
from pyspk.backend.gmm import GmmError
from pyspk.backend.gmm_stats import accumulate
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options(FrameOptions):
    """Accumulate GMM statistics (occupancies, first and second order sums) over frames."""

    device: str = "auto"
    num_threads: int = 1


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("gmm", "data_dir", "stats_out"))
    torch.set_num_threads(opts.num_threads)
    gmm = load_ubm(args.gmm)
    scorer = gmm.scorer(opts.device)
    stats = gmm.empty_stats()
    for block in frame_blocks(iter_frames(args.data_dir, opts)):
        try:
            accumulate(scorer, block, stats)
        except GmmError as e:
            raise GmmError(f"{args.gmm} vs features of {args.data_dir}: {e}") from None
    stats.save(args.stats_out)
    logger.info(f"{stats.frames} frames, log-likelihood per frame {stats.loglike / stats.frames:.4f}")


if __name__ == "__main__":
    run_command(main)
