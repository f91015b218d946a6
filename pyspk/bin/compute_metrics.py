"""EER (Kaldi's compute-eer) and minDCF (Kaldi's compute_min_dcf.py) of a score file.

    python -m pyspk.bin.compute_metrics [--exp-root exp --system NAME] <trials> <scores>

Prints ``EER: 4.9051%`` and ``minDCF(p-target=P): 0.4812`` for P = 0.01, 0.001, 0.05 on stdout;
with --system also records them (and the score/trials paths, for the DET plot) in
<exp-root>/RESULTS. The score file may come from any system: ``enroll test score`` lines, each
trial exactly once, in any order (ties in minDCF are broken by that order, as Kaldi does).
"""
import dataclasses
import sys

from pyspk import results
from pyspk.bin.options import parse_options, run_command
from pyspk.io.trials import read_scores, read_trials
from pyspk.metrics import format_metrics, verification_metrics


@dataclasses.dataclass
class Options:
    """Compute EER and minDCF of <scores> on <trials>; optionally record them as a system's row."""
    exp_root: str = "exp"   # experiment dir holding RESULTS
    system: str = ""        # record the figures under this name ("" = print only)
    dim: int = 0            # embedding dimension to record (0 = unknown)
    params: int = 0         # model parameters to record (0 = unknown)


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["trials", "scores"])
    try:
        trials = read_trials(args.trials)
        scores, file_order = read_scores(args.scores, trials)
        m = verification_metrics(scores[file_order], trials.target[file_order])
    except ValueError as e:
        sys.exit(f"compute_metrics: {e}")
    print(format_metrics(m))
    print(f"compute_metrics: {len(trials)} trials ({int(trials.target.sum())} target); EER threshold "
          f"{m['eer_threshold']:.6g}; interpolated ROC EER {m['roc_eer']:.4f}%", file=sys.stderr)
    if opts.system:
        fields = {k: m[k] for k in ("eer", "mindcf_0.01", "mindcf_0.001", "mindcf_0.05")}
        fields.update({k: getattr(opts, k) for k in ("dim", "params") if getattr(opts, k) > 0})
        results.record(opts.exp_root, opts.system, scores=args.scores, trials=args.trials, **fields)
        print(f"compute_metrics: recorded {opts.system} in {opts.exp_root}/RESULTS", file=sys.stderr)


if __name__ == "__main__":
    run_command(main)
