"""Sum the jobs' i-vector statistics and re-estimate T and sigma (the M-step of one EM iteration).

    python -m pyspk.bin.update_ivector_extractor --nj N <extractor-in> <stats-prefix> <extractor-out>
reads <stats-prefix>.1.acc ... <stats-prefix>.N.acc.
"""
import dataclasses
import logging

from pyspk.backend.ivector import IvectorExtractor, IvectorStats
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Re-estimate an i-vector extractor from summed statistics."""

    nj: int = 1
    update_variances: bool = True
    variance_floor_factor: float = 0.1


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("extractor_in", "stats_prefix", "extractor_out"))
    model = IvectorExtractor.load(args.extractor_in)
    acc = IvectorStats.empty(model.ubm.num_gauss, model.ubm.dim, model.ivector_dim)
    for job in range(1, opts.nj + 1):
        path = f"{args.stats_prefix}.{job}.acc"
        try:
            acc += IvectorStats.load(path)
        except ValueError as e:
            raise ValueError(f"{path} (for {args.extractor_in}): {e}") from None
    if acc.utts == 0:
        raise ValueError(f"no utterances in {args.stats_prefix}.1..{opts.nj}.acc")
    model.reestimated(acc, opts.variance_floor_factor, opts.update_variances).save(args.extractor_out)
    logger.info(f"{acc.utts} utterances, objective per utterance {acc.objective / acc.utts:.4f} "
                f"under {args.extractor_in}")


if __name__ == "__main__":
    run_command(main)
