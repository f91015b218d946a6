"""Verification and identification metrics, defined exactly as Kaldi defines them.

- ``kaldi_eer``: Kaldi's ``compute-eer`` (src/ivectorbin/compute-eer.cc), including its float32
  scores, its walk over the sorted target scores and its results on ties and tiny lists
  (one target -> EER 0; every target below every non-target -> EER (n_tar - 1) / n_tar).
- ``min_dcf``: Kaldi's ``sid/compute_min_dcf.py`` (``ComputeErrorRates`` + ``ComputeMinDcf``):
  thresholds are the sorted scores (a stable sort, so tied scores keep their input order),
  the cost is normalised by min(c_miss * p_target, c_fa * (1 - p_target)).
- ``roc_eer``: the EER where the linearly interpolated ROC crosses FNR = FPR (no Kaldi quirks).
- ``det_curve``: miss and false-alarm rates at every distinct threshold (for DET plots).
- ``topk_accuracy``: identification top-k accuracy in percent.

Scores are 1-D arrays (higher = more likely the same speaker); labels are 1-D arrays of
bool/0-1 (1 = target trial), same length. Rates are fractions in [0, 1] unless said otherwise.
This module is on the ground floor: it imports nothing else of pyspk.
"""
import numpy as np

P_TARGETS = (0.01, 0.001, 0.05)


def _check_scores(scores, labels):
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
    scores, labels = _check_scores(scores, labels)
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
    scores, labels = _check_scores(scores, labels)
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
    scores, labels = _check_scores(scores, labels)
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


def topk_accuracy(scores, labels, ks=(1, 5)):
    """Identification accuracy in percent for each k: a test is right when fewer than k classes
    score strictly higher than its true class. ``scores`` is (n_tests, n_classes), ``labels``
    (n_tests,) class indices. Returns {k: percent}."""
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(f"scores must be (n, classes) and labels (n,), got {scores.shape}, {labels.shape}")
    true = scores[np.arange(len(labels)), labels]
    rank = (scores > true[:, None]).sum(axis=1)
    return {k: 100.0 * float(np.mean(rank < k)) for k in ks}
