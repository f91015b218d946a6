"""Verification and identification metrics, defined exactly as Kaldi and BOSARIS define them.

- ``kaldi_eer``: Kaldi's ``compute-eer`` (src/ivectorbin/compute-eer.cc), including its float32
  scores, its walk over the sorted target scores and its results on ties and tiny lists
  (one target -> EER 0; every target below every non-target -> EER (n_tar - 1) / n_tar).
- ``min_dcf``: Kaldi's ``sid/compute_min_dcf.py`` (``ComputeErrorRates`` + ``ComputeMinDcf``):
  thresholds are the sorted scores (a stable sort, so tied scores keep their input order),
  the cost is normalised by min(c_miss * p_target, c_fa * (1 - p_target)).
- ``roc_eer``: the EER where the linearly interpolated ROC crosses FNR = FPR (no Kaldi quirks).
- ``det_curve``: miss and false-alarm rates at every distinct threshold (for DET plots).
- calibration-sensitive costs (Cllr, minCllr, actDCF): ``pyspk.llr_metrics``.
- ``eer_bootstrap_ci``: a confidence interval of the Kaldi EER by resampling speakers.
- ``true_class_rank``, ``topk_accuracy``: identification; a tie counts against the system.

Scores are 1-D arrays (higher = more likely the same speaker); labels are 1-D arrays of
bool/0-1 (1 = target trial), same length. Rates are fractions in [0, 1] unless said otherwise.
This module is on the ground floor: it imports nothing else of pyspk.
"""
import numpy as np

P_TARGETS = (0.01, 0.001, 0.05)


def check_scores(scores, labels):
    """-> (scores, labels as bool) after checking shapes, finiteness and that both classes occur."""
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 1 or labels.shape != scores.shape:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} must be 1-D of one length")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{np.count_nonzero(~np.isfinite(scores))} scores are NaN or infinite")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError(f"need target and non-target trials, got {labels.sum()} targets "
                         f"and {(~labels).sum()} non-targets")
    return scores, labels


def kaldi_eer(scores, labels):
    """EER (fraction) and threshold exactly as Kaldi's ``compute-eer``.

    Kaldi keeps scores as float32 and sorts target (T) and non-target (N) scores ascending; for
    target position t = 0, 1, ..., T-2 it looks at non-target position
    max(N - 1 - floor(N * t / T), 0) and stops at the first t where that non-target score is
    strictly below the target score. EER = t / T, threshold = the t-th target score.
    """
    scores, labels = check_scores(scores, labels)
    scores = scores.astype(np.float32)
    tar = np.sort(scores[labels])
    non = np.sort(scores[~labels])
    n_tar, n_non = len(tar), len(non)
    t = np.arange(n_tar - 1, dtype=np.int64)
    non_pos = np.maximum(n_non - 1 - (n_non * t) // n_tar, 0)
    hits = np.flatnonzero(non[non_pos] < tar[:-1])
    pos = int(hits[0]) if len(hits) else n_tar - 1
    return pos / n_tar, float(tar[pos])


def error_rates(scores, labels):
    """Kaldi's ``ComputeErrorRates``: (fnrs, fprs, thresholds), one entry per trial.

    Trials are sorted by score ascending (stable); entry i rejects sorted trials 0..i:
    fnrs[i] = targets among them / targets, fprs[i] = 1 - non-targets among them / non-targets.
    """
    scores, labels = check_scores(scores, labels)
    scores = scores.astype(np.float64)
    order = np.argsort(scores, kind="stable")
    lab = labels[order].astype(np.int64)
    n_tar = int(lab.sum())
    n_non = len(lab) - n_tar
    fnrs = np.cumsum(lab) / float(n_tar)
    fprs = 1 - np.cumsum(1 - lab) / float(n_non)
    return fnrs, fprs, scores[order]


def min_dcf(scores, labels, p_target=0.01, c_miss=1.0, c_fa=1.0):
    """Normalised minimum detection cost and its threshold, exactly as Kaldi's ``compute_min_dcf.py``."""
    if not 0 < p_target < 1:
        raise ValueError(f"p_target must be in (0, 1), got {p_target}")
    fnrs, fprs, thresholds = error_rates(scores, labels)
    c_det = c_miss * fnrs * p_target + c_fa * fprs * (1 - p_target)
    i = int(np.argmin(c_det))  # first minimum, as Kaldi's strict '<' keeps
    c_def = min(c_miss * p_target, c_fa * (1 - p_target))
    return float(c_det[i] / c_def), float(thresholds[i])


def det_curve(scores, labels):
    """(fpr, fnr, thresholds) at every distinct score t, accepting scores >= t, t ascending."""
    scores, labels = check_scores(scores, labels)
    order = np.argsort(scores, kind="stable")
    s, lab = scores[order], labels[order]
    last = np.r_[s[1:] != s[:-1], True]  # the last trial of each run of equal scores
    below_tar = np.cumsum(lab)[last]      # targets with score <= t
    below_non = np.cumsum(~lab)[last]
    n_tar, n_non = below_tar[-1], below_non[-1]
    thr = s[last]
    # accept >= t: misses are the targets strictly below t.
    fnr = np.r_[0, below_tar[:-1]] / n_tar
    fpr = 1 - np.r_[0, below_non[:-1]] / n_non
    return fpr, fnr, thr


def roc_eer(scores, labels):
    """EER (fraction) where the piecewise-linear ROC (FPR, FNR) crosses FNR = FPR.

    The points are those of ``det_curve`` plus the end point (FPR 0, FNR 1).
    """
    fpr, fnr, _ = det_curve(scores, labels)
    fpr = np.r_[fpr, 0.0]
    fnr = np.r_[fnr, 1.0]
    d = fnr - fpr  # rises from <= 0 to 1 as the threshold rises
    i = int(np.flatnonzero(d >= 0)[0])
    if i == 0 or d[i] == 0:
        return float((fpr[i] + fnr[i]) / 2)
    w = -d[i - 1] / (d[i] - d[i - 1])
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1]))


def verification_metrics(scores, labels, p_targets=P_TARGETS):
    """Dict with ``eer`` (Kaldi, percent), ``roc_eer`` (percent), ``eer_threshold`` and
    ``mindcf_<p>`` for each p_target (c_miss = c_fa = 1)."""
    eer, thr = kaldi_eer(scores, labels)
    out = {"eer": 100 * eer, "eer_threshold": thr, "roc_eer": 100 * roc_eer(scores, labels)}
    for p in p_targets:
        out[f"mindcf_{p:g}"] = min_dcf(scores, labels, p)[0]
    return out


def format_metrics(metrics, p_targets=P_TARGETS):
    """The lines Kaldi's voxceleb recipes print: ``EER: 4.9051%``, ``minDCF(p-target=0.01): 0.4812``..."""
    lines = [f"EER: {metrics['eer']:.4f}%"]
    lines += [f"minDCF(p-target={p:g}): {metrics[f'mindcf_{p:g}']:.4f}" for p in p_targets]
    return "\n".join(lines)


def _weighted_kaldi_eer(tar, tar_w, non, non_w):
    """``kaldi_eer`` of sorted float32 ``tar``/``non`` each repeated by its integer weight, without
    materialising the repeats: position t of the repeated list is element searchsorted(cumsum, t).
    Kaldi's stopping test (non-target at position N-1-floor(N t / T) below the t-th target) is
    monotonic in t (targets rise, non-targets fall), so its first t is found by bisection."""
    tar_cum, non_cum = np.cumsum(tar_w), np.cumsum(non_w)
    n_tar, n_non = int(tar_cum[-1]), int(non_cum[-1])

    def stops(t):
        non_pos = max(n_non - 1 - (n_non * t) // n_tar, 0)
        return non[np.searchsorted(non_cum, non_pos, side="right")] < tar[np.searchsorted(tar_cum, t, side="right")]

    lo, hi = 0, n_tar - 1   # the answer is in [lo, hi]; hi = n_tar - 1 when no t <= n_tar - 2 stops
    while lo < hi:
        mid = (lo + hi) // 2
        if stops(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo / n_tar


def eer_bootstrap_ci(scores, labels, enroll_spk, test_spk, n_boot=1000, seed=0, level=0.95):
    """Percentile bootstrap interval (lo, hi), in percent, of the Kaldi EER, resampling speakers.

    Each of the ``n_boot`` draws picks as many speakers as the trials name (enrollment and test
    sides together), uniformly with replacement (numpy ``default_rng(seed)``, so the interval is
    deterministic), and keeps the trials among the drawn speakers, each drawn speaker a distinct
    copy: a target trial of speaker s counts m_s times, a non-target trial of speakers a, b
    m_a * m_b times (m = times drawn). Draws without a target or a non-target trial are skipped;
    more than half skipped is an error. ``enroll_spk``/``test_spk``: the speaker of each trial's sides.
    Returns (lo, hi, draws used).
    """
    scores, labels = check_scores(scores, labels)
    enroll_spk, test_spk = np.asarray(enroll_spk), np.asarray(test_spk)
    if enroll_spk.shape != scores.shape or test_spk.shape != scores.shape:
        raise ValueError("need the enrollment and test speaker of every trial")
    bad = labels & (enroll_spk != test_spk)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"target trial {i + 1} has two speakers ({enroll_spk[i]}, {test_spk[i]})")
    speakers, codes = np.unique(np.concatenate([enroll_spk, test_spk]), return_inverse=True)
    enroll_code, test_code = codes[:len(scores)], codes[len(scores):]
    order = np.argsort(scores.astype(np.float32), kind="stable")
    tar_i = order[labels[order]]
    non_i = order[~labels[order]]
    tar, non = scores[tar_i].astype(np.float32), scores[non_i].astype(np.float32)
    tar_spk, non_enroll, non_test = enroll_code[tar_i], enroll_code[non_i], test_code[non_i]
    rng = np.random.default_rng(seed)
    eers = []
    for _ in range(n_boot):
        m = np.bincount(rng.integers(0, len(speakers), len(speakers)), minlength=len(speakers))
        tar_w = m[tar_spk]
        non_w = m[non_enroll] * m[non_test]
        if tar_w.sum() > 0 and non_w.sum() > 0:
            eers.append(_weighted_kaldi_eer(tar, tar_w, non, non_w))
    if len(eers) * 2 < n_boot:
        raise ValueError(f"only {len(eers)} of {n_boot} speaker draws held both target and non-target "
                         f"trials ({len(speakers)} speakers): too few speakers for a bootstrap")
    lo, hi = np.percentile(100 * np.array(eers), [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi), len(eers)


def true_class_rank(scores, labels):
    """Rank (n,) of each test's true class among (n, classes) ``scores``, 1 = best: one plus the
    number of other classes scoring at least as high. A tie therefore counts against the system."""
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(f"scores must be (n, classes) and labels (n,), got {scores.shape}, {labels.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{np.count_nonzero(~np.isfinite(scores))} class scores are NaN or infinite")
    true = scores[np.arange(len(labels)), labels]
    return (scores >= true[:, None]).sum(axis=1)  # the true class itself counts as the 1


def rank_accuracy(ranks, ks=(1, 5)):
    """{k: percent of ``ranks`` (from ``true_class_rank``) that are <= k}."""
    ranks = np.asarray(ranks)
    if len(ranks) == 0:
        raise ValueError("no test to compute an identification accuracy of")
    return {k: 100.0 * float(np.mean(ranks <= k)) for k in ks}


def topk_accuracy(scores, labels, ks=(1, 5)):
    """Identification top-k accuracy in percent, {k: percent}: a test is right at k when its true
    class's rank (``true_class_rank``: ties count against) is <= k. ``scores`` (n, classes),
    ``labels`` (n,) class indices."""
    return rank_accuracy(true_class_rank(scores, labels), ks)
