"""Cllr, minCllr (PAV), actDCF, the speaker bootstrap of the EER and identification ranks, against
hand-computed values and independent reference implementations."""
import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from pyspk.llr_metrics import act_dcf, calibration_metrics, cllr, format_calibration, min_cllr, optimal_llrs, pav
from pyspk.metrics import eer_bootstrap_ci, kaldi_eer, rank_accuracy, topk_accuracy, true_class_rank
from pyspk.metrics import _weighted_kaldi_eer


def split(tar, non):
    return np.r_[tar, non], np.r_[np.ones(len(tar), bool), np.zeros(len(non), bool)]


def test_cllr_by_hand():
    assert cllr(*split([0.0], [0.0])) == pytest.approx(1.0)           # no information: 1 bit
    # LLR +-ln 3: posterior 3/4 on the right side -> log2(4/3) per trial.
    assert cllr(*split([np.log(3)], [-np.log(3)])) == pytest.approx(np.log2(4 / 3))
    # Confidently wrong costs much more than 1 bit.
    assert cllr(*split([-10.0], [10.0])) > 14


def test_min_cllr_by_hand():
    # Sorted: 1 (non), 2 (tar), 2.5 (non), 3 (tar) -> PAV 0, 1/2, 1/2, 1; prior log odds 0
    # -> LLRs -inf, 0, 0, +inf: each class pays 1 bit on one of its two trials -> 0.5.
    scores, labels = split([2.0, 3.0], [1.0, 2.5])
    np.testing.assert_array_equal(optimal_llrs(scores, labels), [0.0, np.inf, -np.inf, 0.0])
    assert min_cllr(scores, labels) == pytest.approx(0.5)
    # A tie of a target and a non-target is pooled: both get LLR 0 (BOSARIS's order would split them).
    assert min_cllr(*split([1.0, 2.0], [1.0, 0.0])) == pytest.approx(0.5)


def test_pav_is_weighted_isotonic_regression():
    rng = np.random.default_rng(3)
    for _ in range(20):
        y, w = rng.random(50), rng.integers(1, 5, 50).astype(float)
        expected = IsotonicRegression().fit_transform(np.arange(50), y, sample_weight=w)
        np.testing.assert_allclose(pav(y, w), expected, atol=1e-12)


def sklearn_min_cllr(scores, labels):
    """Reference: scikit-learn's isotonic regression (which pools ties) as the PAV."""
    posterior = IsotonicRegression(y_min=0, y_max=1).fit_transform(scores, labels.astype(float))
    with np.errstate(divide="ignore"):
        llr = np.log(posterior) - np.log1p(-posterior) - np.log(labels.sum() / (~labels).sum())
    tar, non = llr[labels], llr[~labels]
    return (np.mean(np.logaddexp(0, -tar)) + np.mean(np.logaddexp(0, non))) / (2 * np.log(2))


def test_min_cllr_matches_scikit_learn_and_bounds_every_affine_calibration():
    rng = np.random.default_rng(4)
    for _ in range(5):
        n = rng.integers(50, 2000)
        labels = rng.random(n) < 0.2
        scores = np.round(rng.normal(size=n) + 1.5 * labels, 1)   # rounding: many ties
        m = min_cllr(scores, labels)
        assert m == pytest.approx(sklearn_min_cllr(scores, labels), abs=1e-10)
        assert m <= 1 + 1e-12
        best_affine = min(cllr(a * scores + b, labels) for a in np.linspace(0.1, 5, 15)
                          for b in np.linspace(-4, 4, 17))
        assert m <= best_affine


def bosaris_fast_act_dcf(tar, non, p):
    """A port of BOSARIS fast_actDCF.m's rank counting (D = 1 threshold -plo)."""
    plo = np.log(p / (1 - p))
    rank = 1 + int(np.flatnonzero(np.argsort(np.r_[-plo, tar], kind="stable") == 0)[0])
    p_miss = (rank - 1) / len(tar)
    rank = 1 + int(np.flatnonzero(np.argsort(np.r_[-plo, non], kind="stable") == 0)[0])
    p_fa = (len(non) - rank + 1) / len(non)
    return (p * p_miss + (1 - p) * p_fa) / min(p, 1 - p)


def test_act_dcf_by_hand_and_against_bosaris_port():
    # p = 0.5: threshold 0, a score of exactly 0 is accepted -> P_miss 1/2, P_fa 1/2 -> 1.0.
    assert act_dcf(*split([-1.0, 1.0], [0.0, -2.0]), 0.5) == pytest.approx(1.0)
    # p = 0.01: threshold ln 99 = 4.595; tar 5 accepted, 4 missed; non 4.6 accepted.
    assert act_dcf(*split([5.0, 4.0], [4.6, 0.0]), 0.01) == pytest.approx((0.01 * 0.5 + 0.99 * 0.5) / 0.01)
    rng = np.random.default_rng(5)
    for _ in range(20):
        tar, non = rng.normal(3, 3, rng.integers(1, 100)), rng.normal(-3, 3, rng.integers(1, 500))
        for p in (0.01, 0.001, 0.05, 0.5):
            assert act_dcf(*split(tar, non), p) == pytest.approx(bosaris_fast_act_dcf(tar, non, p), abs=1e-12)


def test_calibration_lines():
    m = calibration_metrics(*split([0.0], [0.0]))
    assert format_calibration(m).splitlines() == [
        "Cllr: 1.0000", "minCllr: 1.0000", "actDCF(p-target=0.01): 1.0000",
        "actDCF(p-target=0.001): 1.0000", "actDCF(p-target=0.05): 1.0000"]


def test_weighted_eer_equals_the_repeated_list():
    rng = np.random.default_rng(6)
    for _ in range(30):
        tar = np.sort(np.round(rng.normal(1, 1, rng.integers(1, 30)), 1)).astype(np.float32)
        non = np.sort(np.round(rng.normal(0, 1, rng.integers(1, 60)), 1)).astype(np.float32)
        tw, nw = rng.integers(0, 4, len(tar)), rng.integers(0, 4, len(non))
        tw[0] = nw[0] = 1
        expected = kaldi_eer(*split(np.repeat(tar, tw), np.repeat(non, nw)))[0]
        assert _weighted_kaldi_eer(tar, tw, non, nw) == expected


def speaker_trials(n_spk=10, n_utt=4, seed=7):
    """All pairs of utterances of n_spk speakers; cosine scores of noisy speaker vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_spk, 16))
    spk = np.repeat(np.arange(n_spk), n_utt)
    x = centres[spk] + 1.2 * rng.normal(size=(len(spk), 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    a, b = np.triu_indices(len(spk), 1)
    names = np.array([f"spk{s:02d}" for s in spk])
    return np.einsum("ij,ij->i", x[a], x[b]), spk[a] == spk[b], names[a], names[b]


def brute_force_bootstrap(scores, labels, e_spk, t_spk, n_boot, seed):
    """Reference: build each resampled trial list explicitly from the drawn speaker copies."""
    speakers = sorted(set(e_spk) | set(t_spk))
    by_pair = {}
    for i, (e, t) in enumerate(zip(e_spk, t_spk)):
        by_pair.setdefault((e, t), []).append(i)
    rng = np.random.default_rng(seed)
    eers = []
    for _ in range(n_boot):
        drawn = [speakers[i] for i in rng.integers(0, len(speakers), len(speakers))]
        keep = []
        for i, a in enumerate(drawn):
            for j, b in enumerate(drawn):
                keep += [k for k in by_pair.get((a, b), []) if labels[k] == (i == j)]
        keep = np.array(keep)
        if labels[keep].any() and not labels[keep].all():
            eers.append(kaldi_eer(scores[keep], labels[keep])[0])
    return tuple(np.percentile(100 * np.array(eers), [2.5, 97.5])), len(eers)


def test_speaker_bootstrap_matches_brute_force_and_seeded_expectation():
    scores, labels, e_spk, t_spk = speaker_trials()
    lo, hi, used = eer_bootstrap_ci(scores, labels, e_spk, t_spk, n_boot=200, seed=0)
    (ref_lo, ref_hi), ref_used = brute_force_bootstrap(scores, labels, e_spk, t_spk, 200, 0)
    assert (lo, hi, used) == (pytest.approx(ref_lo, abs=1e-9), pytest.approx(ref_hi, abs=1e-9), ref_used)
    point = 100 * kaldi_eer(scores, labels)[0]
    assert lo < point < hi
    # Seeded: the same seed gives the same interval, another seed another one.
    assert eer_bootstrap_ci(scores, labels, e_spk, t_spk, n_boot=200, seed=0) == (lo, hi, used)
    assert eer_bootstrap_ci(scores, labels, e_spk, t_spk, n_boot=200, seed=1)[:2] != (lo, hi)


SEEDED = (16.625, 28.375, 200)   # numpy default_rng(0), 200 draws, 10 speakers: pinned


def test_speaker_bootstrap_seeded_values():
    scores, labels, e_spk, t_spk = speaker_trials()
    lo, hi, used = eer_bootstrap_ci(scores, labels, e_spk, t_spk, n_boot=200, seed=0)
    assert (round(lo, 4), round(hi, 4), used) == SEEDED


def test_bootstrap_rejects_two_speaker_targets_and_too_few_speakers():
    scores, labels = split([0.9, 0.8], [0.1, 0.2])
    with pytest.raises(ValueError, match="has two speakers"):
        eer_bootstrap_ci(scores, labels, ["a", "b", "a", "b"], ["a", "a", "b", "a"])
    with pytest.raises(ValueError, match="too few speakers"):
        eer_bootstrap_ci(scores, labels, ["a", "b", "a", "b"], ["a", "b", "b", "a"], n_boot=100)


def test_ties_count_against_the_system():
    scores = np.array([[0.9, 0.1, 0.0],
                       [0.2, 0.5, 0.3],
                       [0.3, 0.3, 0.4],    # true class 1 ties class 0 for second place
                       [0.5, 0.5, 0.5]])   # all tied: rank 3 whatever the true class
    labels = np.array([0, 0, 1, 0])
    np.testing.assert_array_equal(true_class_rank(scores, labels), [1, 3, 3, 3])
    assert topk_accuracy(scores, labels, ks=(1, 2, 3)) == {1: 25.0, 2: 25.0, 3: 100.0}
    assert rank_accuracy([1, 2, 6], ks=(1, 5)) == {1: pytest.approx(100 / 3), 5: pytest.approx(200 / 3)}
    with pytest.raises(ValueError, match="NaN"):
        true_class_rank(np.array([[np.nan, 1.0]]), np.array([0]))
