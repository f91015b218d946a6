"""EER (Kaldi's compute-eer), minDCF (Kaldi's compute_min_dcf.py), the calibration costs (BOSARIS)
and a speaker-bootstrap interval of the EER, of a score file.

    python -m pyspk.bin.compute_metrics [--exp-root exp --system NAME] [--llr true]
        [--utt2spk FILE] [--bootstrap-draws 1000] [--seed 0] <trials> <scores>

Prints on stdout ``EER: 4.9051%``, ``minDCF(p-target=P): 0.4812``, ``Cllr: 0.5123``,
``minCllr: 0.4012``, ``actDCF(p-target=P): 0.5312`` for P = 0.01, 0.001, 0.05 (scores taken as
natural-log likelihood ratios) and ``EER 95% CI: [3.9000%, 5.8000%]`` (speakers resampled, see
``pyspk.metrics.eer_bootstrap_ci``; speakers from --utt2spk, default <trials' dir>/utt2spk).
With --system records in <exp-root>/RESULTS the EER and minDCF (and the score/trials paths, for the
DET plot), or with --llr true (calibrated scores) Cllr, minCllr and actDCF instead. The score
file may come from any system: ``enroll test score`` lines, each trial exactly once, in any order
(ties in minDCF are broken by that order, as Kaldi does).
"""
import dataclasses
import os
import sys

import numpy as np

from pyspk import results
from pyspk.bin.options import parse_options, run_command
from pyspk.io.tables import read_map
from pyspk.io.trials import read_scores, read_trials
from pyspk.llr_metrics import calibration_metrics, format_calibration
from pyspk.metrics import eer_bootstrap_ci, format_metrics, verification_metrics


@dataclasses.dataclass
class Options:
    """Compute EER, minDCF, Cllr, minCllr, actDCF and an EER interval of <scores> on <trials>."""
    exp_root: str = "exp"        # experiment dir holding RESULTS
    system: str = ""             # record the figures under this name ("" = print only)
    trial_list: str = ""         # with --system: the trial list's name, its own RESULTS row (e.g. vox1_O)
    llr: bool = False            # the scores are calibrated LLRs: record Cllr/minCllr/actDCF, not EER/minDCF
    dim: int = 0                 # embedding dimension to record (0 = unknown)
    params: int = 0              # model parameters to record (0 = unknown)
    utt2spk: str = ""            # speaker of each trial id, for the bootstrap ("" = <trials' dir>/utt2spk)
    bootstrap_draws: int = 1000  # speaker resamplings for the EER interval (0 = no interval)
    seed: int = 0                # seed of the resampling
    listed_trials: str = ""      # the list the figures are for ("" = <trials>): records trials scored / listed
    corpus: str = ""             # corpus recorded with the row
    config_used: str = ""        # config file(s) recorded with the row


def trial_speakers(trials, utt2spk_path):
    """(enroll speakers, test speakers) arrays; an id is an utterance of utt2spk or a speaker itself."""
    utt2spk = read_map(utt2spk_path)
    known = set(utt2spk.values())

    def speaker(key):
        if key in utt2spk:
            return utt2spk[key]
        if key in known:
            return key
        raise ValueError(f"{utt2spk_path}: no speaker for {key!r} of {trials.line_of(key)}")
    return np.array([speaker(k) for k in trials.enroll]), np.array([speaker(k) for k in trials.test])


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["trials", "scores"])
    trials = read_trials(args.trials)
    listed = len(read_trials(opts.listed_trials)) if opts.listed_trials else len(trials)
    results.check_counted(len(trials), listed, "trials", opts.listed_trials or args.trials)
    scores, file_order = read_scores(args.scores, trials)
    m = verification_metrics(scores[file_order], trials.target[file_order])
    cal = calibration_metrics(scores, trials.target)
    print(format_metrics(m))
    print(format_calibration(cal))
    utt2spk = opts.utt2spk or os.path.join(os.path.dirname(args.trials), "utt2spk")
    if opts.bootstrap_draws > 0 and os.path.exists(utt2spk):
        enroll_spk, test_spk = trial_speakers(trials, utt2spk)
        lo, hi, used = eer_bootstrap_ci(scores, trials.target, enroll_spk, test_spk, opts.bootstrap_draws, opts.seed)
        print(f"EER 95% CI: [{lo:.4f}%, {hi:.4f}%]")
        print(f"compute_metrics: EER interval from {used} draws of the {len(set(enroll_spk) | set(test_spk))} "
              f"speakers of {utt2spk} (seed {opts.seed})", file=sys.stderr)
    elif opts.bootstrap_draws > 0:
        print(f"EER 95% CI: not computed (no {utt2spk}: give --utt2spk)")
    print(f"compute_metrics: {len(trials)} trials ({int(trials.target.sum())} target); EER threshold "
          f"{m['eer_threshold']:.6g}; interpolated ROC EER {m['roc_eer']:.4f}%", file=sys.stderr)
    if opts.system:
        if opts.llr:
            fields = cal
        else:
            fields = {k: m[k] for k in ("eer", "mindcf_0.01", "mindcf_0.001", "mindcf_0.05")}
            fields.update(scores=args.scores, trials=args.trials)
        fields.update({k: getattr(opts, k) for k in ("dim", "params") if getattr(opts, k) > 0})
        fields.update(trials_counted=len(trials), trials_listed=listed, **results.details(opts))
        results.record(opts.exp_root, opts.system, trial_list=opts.trial_list, **fields)
        print(f"compute_metrics: recorded {opts.system} in {opts.exp_root}/RESULTS", file=sys.stderr)


if __name__ == "__main__":
    run_command(main)
