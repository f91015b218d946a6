"""Start a diagonal UBM from a sample of a data dir's frames (k-means++ or component splitting).

    python -m pyspk.bin.init_ubm [--num-gauss 64 --init kmeans|split --num-frames 200000] <data-dir> <ubm-out>

Frames: feats.scp MFCC -> deltas -> sliding CMVN -> voiced (vad.scp); a uniform sample of at most
``--num-frames`` of them is held in memory. EM over all the data follows in steps/train_ubm.sh.
"""
import dataclasses
import logging

import torch

from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.gmm_init import init_by_kmeans, init_by_splitting, reservoir_sample
from pyspk.bin.options import format_config, parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options(FrameOptions):
    """Initialise a diagonal-covariance UBM."""

    num_gauss: int = 64
    init: str = "kmeans"          # kmeans (k-means++ then Lloyd) | split (from one Gaussian, doubling)
    num_frames: int = 200000      # frames sampled into memory for the start
    kmeans_iters: int = 10
    iters_per_split: int = 3
    min_variance: float = 1e-3
    seed: int = 0
    device: str = "auto"          # auto | cpu | cuda
    num_threads: int = 1


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("data_dir", "ubm_out"))
    logger.info(format_config(opts).rstrip("\n"))
    torch.set_num_threads(opts.num_threads)
    if opts.init not in ("kmeans", "split"):
        raise ValueError(f"--init must be kmeans or split, not {opts.init!r}")
    frames = reservoir_sample((f for _, f in iter_frames(args.data_dir, opts)), opts.num_frames, opts.seed)
    logger.info(f"sampled {frames.shape[0]} frames of dimension {frames.shape[1]}")
    if opts.init == "kmeans":
        gmm = init_by_kmeans(frames, opts.num_gauss, opts.kmeans_iters, opts.device, opts.min_variance, opts.seed)
    else:
        gmm = init_by_splitting(frames, opts.num_gauss, opts.iters_per_split, opts.device, opts.min_variance)
    gmm.save(args.ubm_out)
    logger.info(f"wrote {args.ubm_out}: {gmm.num_gauss} Gaussians x {gmm.dim} dims")


if __name__ == "__main__":
    run_command(main)
