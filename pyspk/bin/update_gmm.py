"""Sum the jobs' GMM statistics and re-estimate the GMM (the M-step of one EM iteration).

    python -m pyspk.bin.update_gmm --nj N <gmm-in> <stats-prefix> <gmm-out>
reads <stats-prefix>.1.acc ... <stats-prefix>.N.acc, e.g.
    python -m pyspk.bin.update_gmm --nj 4 exp/ubm/3.ubm exp/ubm/3 exp/ubm/4.ubm
"""
import dataclasses
import sys

from pyspk.backend.gmm import DiagGmm, GmmError, GmmStats, update
from pyspk.bin.options import parse_options


@dataclasses.dataclass
class UpdateGmmConfig:
    """Re-estimate a diagonal GMM from summed statistics."""

    nj: int = 1                   # statistics files <stats-prefix>.1.acc .. .<nj>.acc
    min_variance: float = 1e-3
    min_count: float = 1e-3       # components with less occupancy keep their parameters


def main(argv=None):
    cfg, args = parse_options(UpdateGmmConfig, argv, positional=("gmm_in", "stats_prefix", "gmm_out"))
    try:
        gmm = DiagGmm.load(args.gmm_in)
        stats = GmmStats.empty(gmm.num_gauss, gmm.dim)
        for job in range(1, cfg.nj + 1):
            path = f"{args.stats_prefix}.{job}.acc"
            part = GmmStats.load(path)
            if part.first.shape != stats.first.shape:
                raise GmmError(f"{path}: statistics of shape {part.first.shape}, model {args.gmm_in} "
                               f"is {stats.first.shape}")
            stats += part
        new, n_kept = update(gmm, stats, cfg.min_variance, cfg.min_count)
    except GmmError as e:
        sys.exit(f"error: {e}")
    if stats.frames == 0:
        sys.exit(f"error: no frames in {args.stats_prefix}.1..{cfg.nj}.acc")
    new.save(args.gmm_out)
    print(f"{stats.frames} frames, log-likelihood per frame {stats.loglike / stats.frames:.4f} "
          f"under {args.gmm_in}; {n_kept} low-occupancy Gaussians left unchanged")


if __name__ == "__main__":
    main()
