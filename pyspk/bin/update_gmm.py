"""Sum the jobs' GMM statistics and re-estimate the GMM, diagonal or full covariance (the M-step
of one EM iteration).

    python -m pyspk.bin.update_gmm --nj N <gmm-in> <stats-prefix> <gmm-out>
reads <stats-prefix>.1.acc ... <stats-prefix>.N.acc, e.g.
    python -m pyspk.bin.update_gmm --nj 4 exp/ubm/3.ubm exp/ubm/3 exp/ubm/4.ubm
"""
import dataclasses
import logging

from pyspk.backend.full_gmm import load_ubm
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Re-estimate a GMM from summed statistics."""

    nj: int = 1                   # statistics files <stats-prefix>.1.acc .. .<nj>.acc
    min_variance: float = 1e-3    # variance floor (full covariances: eigenvalue floor)
    min_count: float = 1e-3       # components with less occupancy keep their parameters


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("gmm_in", "stats_prefix", "gmm_out"))
    gmm = load_ubm(args.gmm_in)
    stats = gmm.empty_stats()
    for job in range(1, opts.nj + 1):
        path = f"{args.stats_prefix}.{job}.acc"
        try:
            stats += type(stats).load(path)
        except ValueError as e:
            raise ValueError(f"{path} (for {args.gmm_in}): {e}") from None
    if stats.frames == 0:
        raise ValueError(f"no frames in {args.stats_prefix}.1..{opts.nj}.acc")
    new, n_kept = gmm.reestimated(stats, opts.min_variance, opts.min_count)
    new.save(args.gmm_out)
    logger.info(f"{stats.frames} frames, log-likelihood per frame {stats.loglike / stats.frames:.4f} "
                f"under {args.gmm_in}; {n_kept} low-occupancy Gaussians left unchanged")


if __name__ == "__main__":
    run_command(main)
