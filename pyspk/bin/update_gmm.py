"""Sum the jobs' GMM statistics and re-estimate the GMM, diagonal or full covariance (the M-step
of one EM iteration).

    python -m pyspk.bin.update_gmm --nj N <gmm-in> <stats-prefix> <gmm-out>
reads <stats-prefix>.1.acc ... <stats-prefix>.N.acc, e.g.
    python -m pyspk.bin.update_gmm --nj 4 exp/ubm/3.ubm exp/ubm/3 exp/ubm/4.ubm
"""
import dataclasses
import sys

from pyspk.backend.full_gmm import load_ubm
from pyspk.backend.gmm import GmmError, GmmStats
from pyspk.bin.options import parse_options, run_command


@dataclasses.dataclass
class UpdateGmmConfig:
    """Re-estimate a GMM from summed statistics."""

    nj: int = 1                   # statistics files <stats-prefix>.1.acc .. .<nj>.acc
    min_variance: float = 1e-3    # variance floor (full covariances: eigenvalue floor)
    min_count: float = 1e-3       # components with less occupancy keep their parameters


def main(argv=None):
    cfg, args = parse_options(UpdateGmmConfig, argv, positional=("gmm_in", "stats_prefix", "gmm_out"))
    try:
        gmm = load_ubm(args.gmm_in)
        stats = gmm.empty_stats()
        for job in range(1, cfg.nj + 1):
            path = f"{args.stats_prefix}.{job}.acc"
            try:
                stats += GmmStats.load(path)
            except GmmError as e:
                raise GmmError(f"{path} (for {args.gmm_in}): {e}") from None
        new, n_kept = gmm.updated(stats, cfg.min_variance, cfg.min_count)
    except GmmError as e:
        sys.exit(f"error: {e}")
    if stats.frames == 0:
        sys.exit(f"error: no frames in {args.stats_prefix}.1..{cfg.nj}.acc")
    new.save(args.gmm_out)
    print(f"{stats.frames} frames, log-likelihood per frame {stats.loglike / stats.frames:.4f} "
          f"under {args.gmm_in}; {n_kept} low-occupancy Gaussians left unchanged")


if __name__ == "__main__":
    run_command(main)
