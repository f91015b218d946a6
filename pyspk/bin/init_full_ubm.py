"""Turn a diagonal UBM into the equal full-covariance one (Kaldi's ``gmm-global-to-fgmm``), the start
of the full-covariance refinement.

    python -m pyspk.bin.init_full_ubm <diag-ubm> <full-ubm-out>
"""
import dataclasses
import logging

from pyspk.backend.full_gmm import FullGmm
from pyspk.backend.gmm import DiagGmm
from pyspk.bin.options import parse_options, run_command, setup_logging

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Convert a diagonal UBM to full covariance."""


def main(argv=None):
    setup_logging()
    _, args = parse_options(Options, argv, positional=("diag_ubm", "full_ubm_out"))
    full = FullGmm.from_diag(DiagGmm.load(args.diag_ubm))
    full.save(args.full_ubm_out)
    logger.info(f"wrote {args.full_ubm_out}: {full.num_gauss} full-covariance Gaussians x {full.dim} dims")


if __name__ == "__main__":
    run_command(main)
