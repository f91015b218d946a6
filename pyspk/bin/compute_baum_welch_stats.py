"""Baum-Welch statistics of a data dir's utterances under a UBM's top-C alignment, once for the whole
i-vector extractor training (one parallel job's share; see pyspk.backend.baum_welch).

    python -m pyspk.bin.compute_baum_welch_stats [options] <ubm> <data-dir> <stats-ark> <stats-scp>
"""
import dataclasses
import logging

import torch

from pyspk.backend.baum_welch import StatsComputer, batched_stats, write_stats_archive
from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.full_gmm import load_ubm
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options(FrameOptions):
    """Compute per-utterance Baum-Welch statistics under a fixed UBM alignment."""

    top_c: int = 20               # Gaussians per frame in the alignment (0: all)
    device: str = "auto"
    num_threads: int = 1


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv,
                               positional=("ubm", "data_dir", "stats_ark", "stats_scp"))
    torch.set_num_threads(opts.num_threads)
    stats_of = StatsComputer(load_ubm(args.ubm), opts.top_c, opts.device)
    n = write_stats_archive(batched_stats(iter_frames(args.data_dir, opts), stats_of), args.stats_ark, args.stats_scp)
    logger.info(f"wrote the statistics of {n} utterances to {args.stats_scp}")


if __name__ == "__main__":
    run_command(main)
