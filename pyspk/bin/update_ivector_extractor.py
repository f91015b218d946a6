"""Sum the jobs' i-vector statistics and re-estimate T and sigma (the M-step of one EM iteration).

    python -m pyspk.bin.update_ivector_extractor --nj N <extractor-in> <stats-prefix> <extractor-out>
reads <stats-prefix>.1.acc ... <stats-prefix>.N.acc.
"""
import dataclasses
import sys

from pyspk.backend.ivector import IvectorError, IvectorExtractor, IvectorStats, update
from pyspk.bin.options import parse_options, run_command


@dataclasses.dataclass
class UpdateIvectorConfig:
    """Re-estimate an i-vector extractor from summed statistics."""

    nj: int = 1
    update_variances: bool = True
    variance_floor_factor: float = 0.1


def main(argv=None):
    cfg, args = parse_options(UpdateIvectorConfig, argv, positional=("extractor_in", "stats_prefix", "extractor_out"))
    try:
        model = IvectorExtractor.load(args.extractor_in)
        acc = IvectorStats.empty(model.ubm.num_gauss, model.ubm.dim, model.ivector_dim)
        for job in range(1, cfg.nj + 1):
            path = f"{args.stats_prefix}.{job}.acc"
            try:
                acc += IvectorStats.load(path)
            except IvectorError as e:
                raise IvectorError(f"{path}: {e}") from None
        if acc.utts == 0:
            raise IvectorError(f"no utterances in {args.stats_prefix}.1..{cfg.nj}.acc")
        new = update(model, acc, cfg.variance_floor_factor, cfg.update_variances)
    except IvectorError as e:
        sys.exit(f"error: {e}")
    new.save(args.extractor_out)
    print(f"{acc.utts} utterances, objective per utterance {acc.objective / acc.utts:.4f} under {args.extractor_in}")


if __name__ == "__main__":
    run_command(main)
