"""EER and minDCF pinned to hand-computed values and to literal ports of Kaldi's loops."""
import numpy as np
import pytest
from sklearn.metrics import roc_curve

from pyspk.metrics import det_curve, format_metrics, kaldi_eer, min_dcf, roc_eer, verification_metrics


def split(tar, non):
    scores = np.r_[tar, non]
    labels = np.r_[np.ones(len(tar), bool), np.zeros(len(non), bool)]
    return scores, labels


def kaldi_compute_eer_loop(tar, non):
    """compute-eer.cc's loop, line by line (float32 scores, as Kaldi's BaseFloat)."""
    tar = sorted(np.float32(tar))
    non = sorted(np.float32(non))
    pos = 0
    while pos + 1 < len(tar):
        nontarget_n = int(len(non) * pos * 1.0 / len(tar))
        nontarget_pos = max(len(non) - 1 - nontarget_n, 0)
        if non[nontarget_pos] < tar[pos]:
            break
        pos += 1
    return pos / len(tar), float(tar[pos])


def kaldi_min_dcf_loop(scores, labels, p_target):
    """compute_min_dcf.py's ComputeErrorRates + ComputeMinDcf, loop by loop."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    labels = [int(labels[i]) for i in order]
    fnrs, fprs = [], []
    for i, y in enumerate(labels):
        fnrs.append(y if i == 0 else fnrs[-1] + y)
        fprs.append(1 - y if i == 0 else fprs[-1] + 1 - y)
    n_tar = sum(labels)
    fnrs = [x / float(n_tar) for x in fnrs]
    fprs = [1 - x / float(len(labels) - n_tar) for x in fprs]
    best = float("inf")
    for fnr, fpr in zip(fnrs, fprs):
        best = min(best, fnr * p_target + fpr * (1 - p_target))
    return best / min(p_target, 1 - p_target)


# (targets, non-targets, Kaldi EER, interpolated ROC EER, minDCF(p=0.05)), all worked out by hand.
HAND = {
    "perfect separation": ([0.9, 0.8], [0.1, 0.2, 0.3], 0.0, 0.0, 0.0),
    "all wrong": ([0.1, 0.2], [0.8, 0.9, 0.7], 0.5, 1.0, 1.0),
    "all tied": ([0.5, 0.5], [0.5, 0.5], 0.5, 0.5, 1.0),
    "one target, lowest": ([0.1], [0.5, 0.9], 0.0, 1.0, 1.0),
    "mixed": ([0.2, 0.6, 0.7, 0.9], [0.1, 0.3, 0.4, 0.65, 0.8], 0.5, 0.4, 0.75),
}


@pytest.mark.parametrize("case", HAND)
def test_hand_computed(case):
    tar, non, eer, roc, dcf = HAND[case]
    scores, labels = split(tar, non)
    assert kaldi_eer(scores, labels)[0] == pytest.approx(eer, abs=1e-12)
    assert roc_eer(scores, labels) == pytest.approx(roc, abs=1e-12)
    assert min_dcf(scores, labels, 0.05)[0] == pytest.approx(dcf, abs=1e-12)


def test_mixed_case_thresholds_and_p05():
    scores, labels = split([0.2, 0.6, 0.7, 0.9], [0.1, 0.3, 0.4, 0.65, 0.8])
    assert kaldi_eer(scores, labels) == (0.5, pytest.approx(0.7))
    assert min_dcf(scores, labels, 0.5) == (pytest.approx(0.65), pytest.approx(0.4))


def test_eer_tie_is_not_a_crossing():
    # Kaldi stops only where a non-target score is strictly below the target score.
    assert kaldi_eer(*split([0.5, 0.6], [0.5, 0.4]))[0] == 0.5
    assert kaldi_eer(*split([0.5, 0.6], [0.49, 0.4]))[0] == 0.0


def test_eer_uses_float32_scores_like_kaldi():
    # 1 + 1e-9 and 1.0 are the same float32: a tie, so no crossing at the first target.
    assert kaldi_eer(*split([1 + 1e-9, 2.0], [1.0, 0.5]))[0] == 0.5


def test_min_dcf_ties_follow_input_order_like_kaldi():
    scores = np.full(4, 0.5)
    assert min_dcf(scores, np.array([1, 0, 1, 0]), 0.5)[0] == pytest.approx(1.0)
    assert min_dcf(scores, np.array([0, 1, 0, 1]), 0.5)[0] == pytest.approx(0.5)


def test_against_kaldi_loops_on_random_lists_with_ties():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n_tar, n_non = rng.integers(1, 40), rng.integers(1, 300)
        tar = np.round(rng.normal(1.0, 1.0, n_tar), 1)   # rounding makes many ties
        non = np.round(rng.normal(0.0, 1.0, n_non), 1)
        scores, labels = split(tar, non)
        perm = rng.permutation(len(scores))
        scores, labels = scores[perm], labels[perm]
        assert kaldi_eer(scores, labels) == kaldi_compute_eer_loop(tar, non)
        for p in (0.01, 0.001, 0.05):
            assert min_dcf(scores, labels, p)[0] == kaldi_min_dcf_loop(scores, labels, p)


def test_roc_eer_matches_scikit_learn():
    rng = np.random.default_rng(1)
    for trial in range(10):
        n = rng.integers(100, 3000)
        labels = rng.random(n) < 0.3
        scores = np.round(rng.normal(size=n) + 1.2 * labels, 2)
        fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
        d = (1 - tpr) - fpr          # falls as sklearn's threshold falls
        i = np.flatnonzero(d <= 0)[0]
        w = d[i - 1] / (d[i - 1] - d[i])
        expected = fpr[i - 1] + w * (fpr[i] - fpr[i - 1])
        assert roc_eer(scores, labels) == pytest.approx(expected, abs=1e-12)
        # Kaldi's EER is a coarser estimate of the same crossing.
        assert abs(kaldi_eer(scores, labels)[0] - expected) < 0.02


def test_det_curve_rates():
    scores, labels = split([0.2, 0.6], [0.1, 0.6])
    fpr, fnr, thr = det_curve(scores, labels)
    np.testing.assert_allclose(thr, [0.1, 0.2, 0.6])
    np.testing.assert_allclose(fnr, [0, 0, 0.5])
    np.testing.assert_allclose(fpr, [1, 0.5, 0.5])


def test_metric_lines_format():
    # By hand: every p-target is best at rejecting all but the top target (FNR 3/4, FPR 0) -> 0.75.
    scores, labels = split([0.2, 0.6, 0.7, 0.9], [0.1, 0.3, 0.4, 0.65, 0.8])
    lines = format_metrics(verification_metrics(scores, labels)).splitlines()
    assert lines == ["EER: 50.0000%", "minDCF(p-target=0.01): 0.7500",
                     "minDCF(p-target=0.001): 0.7500", "minDCF(p-target=0.05): 0.7500"]


def test_bad_input_is_an_error():
    with pytest.raises(ValueError, match="NaN or infinite"):
        kaldi_eer([0.1, np.nan], [1, 0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        min_dcf([0.1, np.inf], [1, 0])
    with pytest.raises(ValueError, match="need target and non-target"):
        kaldi_eer([0.1, 0.2], [1, 1])

