"""Accumulate the total-variability EM statistics over a job's Baum-Welch statistics (one parallel
job's share of one EM iteration).

    python -m pyspk.bin.acc_ivector_stats [options] <extractor> <stats-scp> <stats-out>

<stats-scp> indexes the statistics pyspk.bin.compute_baum_welch_stats wrote once (the UBM alignment
is fixed); per batch of utterances: the i-vector posterior and its contribution to the T and sigma
updates.
"""
import dataclasses
import logging

import torch

from pyspk.backend.baum_welch import read_stats_archive
from pyspk.backend.ivector import IvectorComputer, IvectorError, IvectorExtractor, IvectorStats
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Accumulate i-vector extractor EM statistics."""

    batch_size: int = 64          # utterances per batched posterior
    device: str = "auto"
    num_threads: int = 1


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("extractor", "stats_scp", "stats_out"))
    torch.set_num_threads(opts.num_threads)
    model = IvectorExtractor.load(args.extractor)
    computer = IvectorComputer(model, opts.device)
    acc = IvectorStats.empty(model.ubm.num_gauss, model.ubm.dim, model.ivector_dim)
    for _, batch in read_stats_archive(args.stats_scp, opts.batch_size, computer.device):
        if batch.F.shape[1:] != model.T.shape[:2]:
            raise IvectorError(f"{args.stats_scp}: statistics of shape {tuple(batch.F.shape[1:])} do not match "
                               f"the UBM of {args.extractor} {model.T.shape[:2]}")
        computer.accumulate(batch, acc)
    acc.save(args.stats_out)
    logger.info(f"{acc.utts} utterances, objective per utterance {acc.objective / acc.utts:.4f}")


if __name__ == "__main__":
    run_command(main)
