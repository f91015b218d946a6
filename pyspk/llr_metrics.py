"""Calibration-sensitive costs of verification scores taken as natural-log likelihood ratios, as
BOSARIS defines them (Brümmer & du Preez, "Application-independent evaluation of speaker detection",
2006): ``cllr``, ``min_cllr`` (Cllr after the optimal monotonic recalibration, found by ``pav``) and
``act_dcf`` (the detection cost at the Bayes threshold -logit(p_target), normalised by
min(p_target, 1 - p_target)).

Scores and labels as in ``pyspk.metrics`` (1-D, higher = same speaker; 1 = target trial). Ground
floor: it imports only ``pyspk.metrics``.
"""
import numpy as np

from pyspk.metrics import P_TARGETS, check_scores


def _tar_non(scores, labels):
    scores, labels = check_scores(scores, labels)
    scores = scores.astype(np.float64)
    return scores[labels], scores[~labels]


def _cllr(tar, non):
    """Cllr in bits of target and non-target LLRs; +-inf LLRs are allowed (PAV produces them)."""
    return float((np.mean(np.logaddexp(0, -tar)) + np.mean(np.logaddexp(0, non))) / (2 * np.log(2)))


def cllr(scores, labels):
    """Cllr in bits, BOSARIS ``cllr.m``: the logarithmic cost at prior 0.5,
    (mean over targets of log2(1 + e^-s) + mean over non-targets of log2(1 + e^s)) / 2.
    0 is perfect; all-zero LLRs ("no information") give exactly 1."""
    return _cllr(*_tar_non(scores, labels))


def pav(y, weights):
    """Pool adjacent violators: the non-decreasing sequence (n,) closest to ``y`` (n,) in
    ``weights``-weighted least squares, i.e. isotonic regression of y on its position."""
    sums, wsum, lens = [], [], []
    for yi, wi in zip(np.asarray(y, dtype=np.float64).tolist(), np.asarray(weights, dtype=np.float64).tolist()):
        s, w, n = yi * wi, wi, 1
        while sums and sums[-1] * w >= s * wsum[-1]:  # previous block's mean >= this one's: pool
            s, w, n = s + sums.pop(), w + wsum.pop(), n + lens.pop()
        sums.append(s)
        wsum.append(w)
        lens.append(n)
    return np.repeat(np.array(sums) / np.array(wsum), lens)


def optimal_llrs(scores, labels):
    """The LLRs (n,) of the best monotonic non-decreasing recalibration of ``scores`` on these very
    trials (BOSARIS ``optimal_llr.m`` without its Laplace smoothing): PAV of the labels over the
    sorted scores gives the posterior P(target | score), minus the empirical prior log odds
    log(n_tar / n_non). Tied scores are pooled first (they share one LLR, as any calibration map
    must give them; BOSARIS instead orders ties non-targets first). May contain +-inf."""
    scores, labels = check_scores(scores, labels)
    values, inverse = np.unique(scores.astype(np.float64), return_inverse=True)
    count = np.bincount(inverse, minlength=len(values)).astype(np.float64)
    n_tar = np.bincount(inverse, weights=labels.astype(np.float64), minlength=len(values))
    posterior = pav(n_tar / count, count)
    n_t = labels.sum()
    with np.errstate(divide="ignore"):
        log_odds = np.log(posterior) - np.log1p(-posterior) - np.log(n_t / (len(labels) - n_t))
    return log_odds[inverse]


def min_cllr(scores, labels):
    """Cllr (bits) after the optimal monotonic recalibration (``optimal_llrs``), BOSARIS ``min_cllr.m``:
    the discrimination part of Cllr; Cllr - minCllr is the calibration loss. <= 1 and <= Cllr."""
    _, labels = check_scores(scores, labels)
    llrs = optimal_llrs(scores, labels)
    return _cllr(llrs[labels], llrs[~labels])


def act_dcf(scores, labels, p_target=0.01):
    """Normalised actual DCF of Bayes decisions on the LLRs, BOSARIS ``fast_actDCF.m`` (unit costs):
    accept when score >= -logit(p_target); (p * P_miss + (1 - p) * P_fa) / min(p, 1 - p)."""
    if not 0 < p_target < 1:
        raise ValueError(f"p_target must be in (0, 1), got {p_target}")
    tar, non = _tar_non(scores, labels)
    threshold = np.log((1 - p_target) / p_target)
    p_miss = np.mean(tar < threshold)
    p_fa = np.mean(non >= threshold)
    return float((p_target * p_miss + (1 - p_target) * p_fa) / min(p_target, 1 - p_target))


def calibration_metrics(scores, labels, p_targets=P_TARGETS):
    """Dict with ``cllr``, ``min_cllr`` (bits) and ``actdcf_<p>`` for each p_target."""
    out = {"cllr": cllr(scores, labels), "min_cllr": min_cllr(scores, labels)}
    for p in p_targets:
        out[f"actdcf_{p:g}"] = act_dcf(scores, labels, p)
    return out


def format_calibration(metrics, p_targets=P_TARGETS):
    """``Cllr: 0.4312``, ``minCllr: 0.3012``, ``actDCF(p-target=0.01): 0.5123``... lines."""
    lines = [f"Cllr: {metrics['cllr']:.4f}", f"minCllr: {metrics['min_cllr']:.4f}"]
    lines += [f"actDCF(p-target={p:g}): {metrics[f'actdcf_{p:g}']:.4f}" for p in p_targets]
    return "\n".join(lines)
