"""Start an i-vector extractor from a UBM (diagonal or full covariance): random total-variability
matrix, residual covariances = the UBM's variances (diagonals).

    python -m pyspk.bin.init_ivector_extractor [--ivector-dim 100] <ubm> <extractor-out>
"""
import dataclasses
import sys

from pyspk.backend.full_gmm import load_ubm
from pyspk.backend.gmm import GmmError
from pyspk.backend.ivector import IvectorExtractor
from pyspk.bin.options import parse_options, run_command


@dataclasses.dataclass
class InitIvectorConfig:
    """Initialise an i-vector extractor (T matrix of C x D x R)."""

    ivector_dim: int = 100
    init_scale: float = 1.0       # T entries ~ init_scale * sqrt(UBM variance) * N(0, 1)
    seed: int = 0


def main(argv=None):
    cfg, args = parse_options(InitIvectorConfig, argv, positional=("ubm", "extractor_out"))
    try:
        ubm = load_ubm(args.ubm)
    except GmmError as e:
        sys.exit(f"error: {e}")
    if cfg.ivector_dim < 1:
        sys.exit(f"error: --ivector-dim must be >= 1, got {cfg.ivector_dim}")
    IvectorExtractor.init_random(ubm, cfg.ivector_dim, cfg.init_scale, cfg.seed).save(args.extractor_out)
    print(f"wrote {args.extractor_out}: {ubm.num_gauss} Gaussians x {ubm.dim} dims -> {cfg.ivector_dim}-dim i-vectors")


if __name__ == "__main__":
    run_command(main)
