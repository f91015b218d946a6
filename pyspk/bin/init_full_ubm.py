"""Turn a diagonal UBM into the equal full-covariance one (Kaldi's ``gmm-global-to-fgmm``), the start
of the full-covariance refinement.

    python -m pyspk.bin.init_full_ubm <diag-ubm> <full-ubm-out>
"""
import dataclasses
import sys

from pyspk.backend.full_gmm import FullGmm
from pyspk.backend.gmm import DiagGmm, GmmError
from pyspk.bin.options import parse_options, run_command


@dataclasses.dataclass
class InitFullUbmConfig:
    """Convert a diagonal UBM to full covariance."""


def main(argv=None):
    _, args = parse_options(InitFullUbmConfig, argv, positional=("diag_ubm", "full_ubm_out"))
    try:
        full = FullGmm.from_diag(DiagGmm.load(args.diag_ubm))
    except GmmError as e:
        sys.exit(f"error: {e}")
    full.save(args.full_ubm_out)
    print(f"wrote {args.full_ubm_out}: {full.num_gauss} full-covariance Gaussians x {full.dim} dims")


if __name__ == "__main__":
    run_command(main)
