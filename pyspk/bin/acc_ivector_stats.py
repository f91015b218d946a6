"""Accumulate the total-variability EM statistics over a data dir (one parallel job's share).

    python -m pyspk.bin.acc_ivector_stats [options] <extractor> <data-dir> <stats-out>

Per utterance: Baum-Welch statistics under the extractor's UBM (top-C posteriors), then, in batches,
the i-vector posterior and its contribution to the T and sigma updates.
"""
import dataclasses
import sys

import torch

from pyspk.backend.frames import FrameOptions, FramesError, iter_frames
from pyspk.backend.gmm import GmmError
from pyspk.backend.ivector import (IvectorComputer, IvectorError, IvectorExtractor, IvectorStats,
                                   StatsComputer, batched_stats)
from pyspk.bin.options import parse_options, run_command


@dataclasses.dataclass
class AccIvectorStatsConfig(FrameOptions):
    """Accumulate i-vector extractor EM statistics."""

    top_c: int = 20               # Gaussians per frame in the alignment (0: all)
    batch_size: int = 64          # utterances per batched posterior
    device: str = "auto"
    num_threads: int = 1


def main(argv=None):
    cfg, args = parse_options(AccIvectorStatsConfig, argv, positional=("extractor", "data_dir", "stats_out"))
    torch.set_num_threads(cfg.num_threads)
    try:
        model = IvectorExtractor.load(args.extractor)
        stats_of = StatsComputer(model.ubm, cfg.top_c, cfg.device)
        computer = IvectorComputer(model, cfg.device)
        acc = IvectorStats.empty(model.ubm.num_gauss, model.ubm.dim, model.ivector_dim)
        for _, batch in batched_stats(iter_frames(args.data_dir, cfg), stats_of, cfg.batch_size):
            computer.accumulate(batch, acc)
    except (FramesError, GmmError, IvectorError) as e:
        sys.exit(f"error: {args.extractor} on {args.data_dir}: {e}")
    acc.save(args.stats_out)
    print(f"{acc.utts} utterances, objective per utterance {acc.objective / acc.utts:.4f}")


if __name__ == "__main__":
    run_command(main)
