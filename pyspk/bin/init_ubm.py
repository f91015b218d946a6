"""Start a diagonal UBM from a sample of a data dir's frames (k-means++ or component splitting).

    python -m pyspk.bin.init_ubm [--num-gauss 64 --init kmeans|split --num-frames 200000] <data-dir> <ubm-out>

Frames: feats.scp MFCC -> deltas -> sliding CMVN -> voiced (vad.scp); a uniform sample of at most
``--num-frames`` of them is held in memory. EM over all the data follows in steps/train_ubm.sh.
"""
import dataclasses
import sys

import torch

from pyspk.backend.frames import FrameOptions, FramesError, iter_frames
from pyspk.backend.gmm import GmmError, init_by_kmeans, init_by_splitting, reservoir_sample
from pyspk.bin.options import format_config, parse_options, run_command


@dataclasses.dataclass
class InitUbmConfig(FrameOptions):
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
    cfg, args = parse_options(InitUbmConfig, argv, positional=("data_dir", "ubm_out"))
    print(format_config(cfg), end="", file=sys.stderr)
    torch.set_num_threads(cfg.num_threads)
    if cfg.init not in ("kmeans", "split"):
        sys.exit(f"error: --init must be kmeans or split, not {cfg.init!r}")
    try:
        frames = reservoir_sample((f for _, f in iter_frames(args.data_dir, cfg)), cfg.num_frames, cfg.seed)
        print(f"sampled {frames.shape[0]} frames of dimension {frames.shape[1]}")
        if cfg.init == "kmeans":
            gmm = init_by_kmeans(frames, cfg.num_gauss, cfg.kmeans_iters, cfg.device, cfg.min_variance,
                                 cfg.seed, log=print)
        else:
            gmm = init_by_splitting(frames, cfg.num_gauss, cfg.iters_per_split, cfg.device,
                                    cfg.min_variance, log=print)
    except (FramesError, GmmError) as e:
        sys.exit(f"error: {e}")
    gmm.save(args.ubm_out)
    print(f"wrote {args.ubm_out}: {gmm.num_gauss} Gaussians x {gmm.dim} dims")


if __name__ == "__main__":
    run_command(main)
