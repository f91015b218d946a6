"""Start an i-vector extractor from a UBM (diagonal or full covariance): random total-variability
matrix, residual covariances = the UBM's variances (diagonals).

    python -m pyspk.bin.init_ivector_extractor [--ivector-dim 100] <ubm> <extractor-out>
"""
import dataclasses
import logging

from pyspk.backend.full_gmm import load_ubm
from pyspk.backend.ivector import IvectorExtractor
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Initialise an i-vector extractor (T matrix of C x D x R)."""

    ivector_dim: int = 100
    init_scale: float = 1.0       # T entries ~ init_scale * sqrt(UBM variance) * N(0, 1)
    seed: int = 0


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("ubm", "extractor_out"))
    ubm = load_ubm(args.ubm)
    if opts.ivector_dim < 1:
        raise ValueError(f"--ivector-dim must be >= 1, got {opts.ivector_dim}")
    IvectorExtractor.init_random(ubm, opts.ivector_dim, opts.init_scale, opts.seed).save(args.extractor_out)
    logger.info(f"wrote {args.extractor_out}: {ubm.num_gauss} Gaussians x {ubm.dim} dims -> "
                f"{opts.ivector_dim}-dim i-vectors")


if __name__ == "__main__":
    run_command(main)
