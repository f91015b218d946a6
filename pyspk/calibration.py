"""Score calibration: scores -> log-likelihood ratios by prior-weighted logistic regression, and
calibration trial lists made from development speakers.

The map is affine, llr = a * score + b, fitted as BOSARIS's ``train_binary_classifier`` /
FoCal (Brümmer & du Preez 2006) does: minimise the prior-weighted cross-entropy

    P * mean_tar log(1 + e^-(a s + b + logit P)) + (1 - P) * mean_non log(1 + e^(a s + b + logit P))

at a target prior P (default 0.5: the objective is then Cllr itself), so that a * s + b is a
natural-log likelihood ratio, independent of P and of the list's proportion of targets.
"""
import dataclasses
import logging

import numpy as np
from scipy.optimize import minimize

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Calibration:
    """llr = scale * score + offset (natural-log likelihood ratio)."""
    scale: float
    offset: float

    def __call__(self, scores):
        """Calibrated LLRs (n,) of raw scores (n,)."""
        return self.scale * np.asarray(scores, dtype=np.float64) + self.offset


def fit_calibration(scores, labels, prior=0.5):
    """Fit a ``Calibration`` on scores (n,) and labels (n,) (True = target trial) at target ``prior``."""
    if not 0 < prior < 1:
        raise ValueError(f"calibration prior must be in (0, 1), got {prior}")
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    n_tar, n_non = int(labels.sum()), int((~labels).sum())
    if n_tar == 0 or n_non == 0:
        raise ValueError(f"calibration needs target and non-target trials, got {n_tar} and {n_non}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("calibration scores contain NaN or infinite values")
    # Standardise the scores for the optimiser; the fitted map is expressed in raw scores at the end.
    centre, spread = scores.mean(), scores.std() or 1.0
    x = (scores - centre) / spread
    sign = np.where(labels, 1.0, -1.0)                       # cost log(1 + e^(-sign * z))
    weight = np.where(labels, prior / n_tar, (1 - prior) / n_non)
    logit_prior = np.log(prior / (1 - prior))

    def cost(theta):
        z = sign * (theta[0] * x + theta[1] + logit_prior)
        loss = np.logaddexp(0, -z)
        g = -weight * sign / (1 + np.exp(z))                 # d loss / d (a x + b)
        return float(np.sum(weight * loss)), np.array([np.sum(g * x), np.sum(g)])

    result = minimize(cost, np.array([1.0, 0.0]), jac=True, method="BFGS", options={"gtol": 1e-10})
    a, b = result.x
    cal = Calibration(scale=float(a / spread), offset=float(b - a * centre / spread))
    logger.info(f"calibration on {n_tar} target and {n_non} non-target trials at prior {prior:g}: "
                f"llr = {cal.scale:.6g} * score {cal.offset:+.6g} (weighted cross-entropy "
                f"{result.fun / np.log(2):.4f} bits)")
    return cal


def calibration_trials(enroll_utt2spk, test_utt2spk, max_targets=20000, nontarget_ratio=10.0, seed=0):
    """A trial list among development utterances -> list of (enroll, test, is_target), sorted.

    Enrollment sides are the utterances of ``enroll_utt2spk`` (dict utt -> speaker), test sides
    those of ``test_utt2spk``; a pair of one utterance with itself and the reverse of a listed
    pair are never made. Target trials: every same-speaker pair, or ``max_targets`` of them drawn
    without replacement (0: all). Non-target trials: round(nontarget_ratio * targets) different-
    speaker pairs drawn uniformly without replacement, or every one of them when ``nontarget_ratio``
    is 0 (a complete development list). numpy ``default_rng(seed)``: deterministic.
    """
    enroll, test = sorted(enroll_utt2spk), sorted(test_utt2spk)
    by_spk = {}
    for t in test:
        by_spk.setdefault(test_utt2spk[t], []).append(t)
    targets = sorted({tuple(sorted((e, t))) for e in enroll for t in by_spk.get(enroll_utt2spk[e], []) if t != e})
    rng = np.random.default_rng(seed)
    if max_targets and len(targets) > max_targets:
        targets = [targets[i] for i in sorted(rng.choice(len(targets), max_targets, replace=False))]
    if not targets:
        raise ValueError("no same-speaker pair of utterances: need speakers with at least two utterances")
    speakers = {**test_utt2spk, **enroll_utt2spk}
    if nontarget_ratio <= 0:
        nontargets = {tuple(sorted((e, t))) for e in enroll for t in test if speakers[e] != speakers[t]}
        if not nontargets:
            raise ValueError("no different-speaker pair of utterances: need at least two speakers")
        return sorted([(a, b, True) for a, b in targets] + [(a, b, False) for a, b in nontargets])
    n_non = int(round(nontarget_ratio * len(targets)))
    n_spk = len(set(speakers.values()))
    possible = len(enroll) * len(test) * (1 - 1 / n_spk) if n_spk > 1 else 0
    if n_non > possible / 2:
        raise ValueError(f"cannot draw {n_non} distinct non-target pairs from {len(enroll)} x {len(test)} "
                         f"utterances of {n_spk} speakers; lower the non-target ratio")
    nontargets = set()
    while len(nontargets) < n_non:
        for i, j in zip(rng.integers(0, len(enroll), n_non), rng.integers(0, len(test), n_non)):
            pair = tuple(sorted((enroll[i], test[j])))
            if speakers[pair[0]] != speakers[pair[1]] and len(nontargets) < n_non:
                nontargets.add(pair)
    return sorted([(a, b, True) for a, b in targets] + [(a, b, False) for a, b in nontargets])
