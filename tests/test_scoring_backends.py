"""Cosine, LDA, PLDA and AS-norm on synthetic Gaussian speakers with known structure."""
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from pyspk.backend.plda import LDA, PLDA
from pyspk.io.trials import Trials
from pyspk.metrics import kaldi_eer, min_dcf
from pyspk.scoring import ScoringOptions, Scorer, cohort_stats, pair_scores, score_trials


def all_pairs(x, labels):
    """Trials over every pair of rows of x: (vectors dict, Trials)."""
    a, b = np.triu_indices(len(x), 1)
    vectors = {f"u{i}": x[i] for i in range(len(x))}
    return vectors, Trials([f"u{i}" for i in a], [f"u{i}" for i in b], labels[a] == labels[b])


def gaussian_speakers(rng, mu, between, within, n_spk, n_utt, return_speakers=False):
    """x (n_spk * n_utt, d) = speaker y ~ N(mu, between) + N(0, within) noise, and labels."""
    y = rng.multivariate_normal(mu, between, size=n_spk)
    x = np.repeat(y, n_utt, axis=0) + rng.multivariate_normal(np.zeros(len(mu)), within, size=n_spk * n_utt)
    labels = np.repeat(np.arange(n_spk), n_utt).astype(str)
    return (x, labels, y) if return_speakers else (x, labels)


def rel_error(estimate, truth):
    return np.linalg.norm(estimate - truth) / np.linalg.norm(truth)


def test_plda_llr_is_the_exact_gaussian_likelihood_ratio():
    rng = np.random.default_rng(0)
    d = 5
    a, c = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    mu, between, within = rng.normal(size=d), a @ a.T + np.eye(d), c @ c.T / 2 + 0.1 * np.eye(d)
    plda = PLDA(mu, between, within)
    x1, x2 = rng.normal(size=(4, d)), rng.normal(size=(4, d))
    same = np.block([[between + within, between], [between, between + within]])
    expected = [multivariate_normal.logpdf(np.r_[u, v], np.r_[mu, mu], same)
                - multivariate_normal.logpdf(u, mu, between + within)
                - multivariate_normal.logpdf(v, mu, between + within) for u, v in zip(x1, x2)]
    np.testing.assert_allclose(plda.llr(x1, x2), expected, rtol=1e-9)


def test_plda_learns_the_true_covariances_and_beats_cosine():
    rng = np.random.default_rng(1)
    d = 12
    mu = rng.normal(size=d)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    between = q @ np.diag(np.linspace(0.3, 3.0, d)) @ q.T
    # Within-speaker variation large along a few nuisance directions: cosine suffers, PLDA does not.
    within = q @ np.diag([9.0, 6.0, 4.0] + [0.3] * (d - 3)) @ q.T
    x, labels, y = gaussian_speakers(rng, mu, between, within, 600, 12, return_speakers=True)
    plda = PLDA.fit(x, labels, iters=10)
    start = PLDA.fit(x, labels, iters=0)  # the class covariances EM starts from
    # With 600 speakers, B can be known only as well as the sample covariance of the true speakers.
    oracle = rel_error(np.cov(y, rowvar=False), between)
    assert rel_error(plda.between, between) < 1.15 * oracle < rel_error(start.between, between)
    assert rel_error(plda.within, within) < 0.05 < rel_error(start.within, within)
    assert np.linalg.norm(plda.mu - y.mean(axis=0)) < 0.15  # sampling error of x.mean(): ~0.06

    x_test, lab_test = gaussian_speakers(rng, mu, between, within, 40, 5)
    vectors, trials = all_pairs(x_test, lab_test)
    eer = {}
    for backend in ("cosine", "plda"):
        config = ScoringOptions(backend=backend, mean_norm=True)
        scores = score_trials(config, vectors, trials, x, labels)
        eer[backend] = kaldi_eer(scores, trials.target)[0]
    assert eer["plda"] < 0.5 * eer["cosine"], eer


def test_lda_whitens_within_class_and_keeps_the_discriminant_directions():
    rng = np.random.default_rng(2)
    d = 6
    between = np.diag([4.0, 2.0, 1e-3, 1e-3, 1e-3, 1e-3])
    within = np.diag([1.0, 0.5, 3.0, 3.0, 3.0, 3.0])
    x, labels = gaussian_speakers(rng, np.zeros(d), between, within, 400, 10)
    lda = LDA.fit(x, labels, dim=2)
    y = lda(x)
    assert y.shape == (len(x), 2)
    # Only the first two input dims carry speaker information.
    assert np.abs(lda.transform_matrix[2:]).max() < 0.1 * np.abs(lda.transform_matrix[:2]).max()
    means = {s: y[labels == s].mean(axis=0) for s in np.unique(labels)}
    dev = y - np.stack([means[s] for s in labels])
    np.testing.assert_allclose(dev.T @ dev / len(y), np.eye(2), atol=0.05)
    with pytest.raises(ValueError, match="LDA dim must be in 1..6"):
        LDA.fit(x, labels, dim=7)


def test_cosine_is_plain_cosine_and_chunking_changes_nothing():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 8))
    a, b = rng.integers(0, 50, 1000), rng.integers(0, 50, 1000)
    scores = Scorer.fit(ScoringOptions()).score(x, a, b)
    expected = np.sum(x[a] * x[b], axis=1) / np.linalg.norm(x[a], axis=1) / np.linalg.norm(x[b], axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(pair_scores(z, np.zeros(50), 0.0, a, b, chunk=7), expected, rtol=1e-12)


def test_asnorm_is_an_affine_map_when_every_vector_sees_the_same_cohort_scores():
    # Unit vectors whose last coordinate is r; cohort speakers at +e_last and -e_last: every vector
    # scores +r against half the cohort and -r against the other half, so AS-norm (top-N = all)
    # divides every score by r and leaves the metrics exactly as they were.
    rng = np.random.default_rng(4)
    r, d = 0.3, 6
    z = rng.normal(size=(30, d - 1))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    x = np.c_[np.sqrt(1 - r * r) * z, np.full(30, r)]
    labels = np.repeat(np.arange(10), 3)
    e = np.eye(d)[-1]
    train = np.stack([e, e, -e, -e, e, e, -e, -e])
    train_labels = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    vectors, trials = all_pairs(x, labels)
    raw = score_trials(ScoringOptions(), vectors, trials)
    normed = score_trials(ScoringOptions(asnorm_top_n=4), vectors, trials, train, train_labels)
    np.testing.assert_allclose(normed, raw / r, rtol=1e-6)  # cohort scores are float32
    assert kaldi_eer(normed, trials.target)[0] == kaldi_eer(raw, trials.target)[0]
    assert min_dcf(normed, trials.target)[0] == pytest.approx(min_dcf(raw, trials.target)[0])


def test_asnorm_with_identical_cohort_scores_is_a_clear_error():
    z = np.ones((3, 2)) / np.sqrt(2)
    mean, std = cohort_stats((z, np.zeros(3)), (np.ones((4, 2)), np.zeros(4)), 0.0, top_n=2)
    assert np.all(std == 0)
    x = np.eye(3)
    train = np.tile([0.0, 0.0, 1.0], (4, 1))
    with pytest.raises(ValueError, match="zero spread"):
        score_trials(ScoringOptions(asnorm_top_n=2), {"a": x[0], "b": x[1]},
                     Trials(["a"], ["b"], np.array([False])), train, np.array(["s", "s", "t", "t"]))


def hub_speakers(rng, n_spk, n_utt, d=32, spread=8.0):
    """Speakers plus a per-utterance offset along one shared direction, uniform in [0, spread]:
    utterances far out on it score high against everything (hubs), which AS-norm corrects."""
    spk = rng.normal(size=(n_spk, d))
    spk[:, 0] = 0
    x = np.repeat(spk, n_utt, axis=0) + rng.normal(size=(n_spk * n_utt, d))
    x[:, 0] = rng.uniform(0, spread, n_spk * n_utt)
    return x, np.repeat(np.arange(n_spk), n_utt).astype(str)


def test_asnorm_improves_eer_when_utterances_have_their_own_score_offsets():
    rng = np.random.default_rng(5)
    train, train_labels = hub_speakers(rng, 200, 8)
    x, labels = hub_speakers(rng, 30, 6)
    vectors, trials = all_pairs(x, labels)
    raw = kaldi_eer(score_trials(ScoringOptions(), vectors, trials, train, train_labels), trials.target)[0]
    normed = kaldi_eer(score_trials(ScoringOptions(asnorm_top_n=50), vectors, trials, train, train_labels),
                       trials.target)[0]
    assert normed < 0.8 * raw, (raw, normed)


def test_missing_vector_names_the_trials_line():
    trials = Trials(["a", "a"], ["b", "c"], np.array([True, False]), path="trials")
    with pytest.raises(KeyError, match=r"trials:2: no vector for 'c'"):
        score_trials(ScoringOptions(), {"a": np.ones(3), "b": np.ones(3)}, trials)


def test_options_that_need_train_data_say_so():
    trials = Trials(["a"], ["b"], np.array([True]))
    vectors = {"a": np.ones(3), "b": np.arange(3.0)}
    with pytest.raises(ValueError, match="need train vectors"):
        score_trials(ScoringOptions(backend="plda"), vectors, trials)
    with pytest.raises(ValueError, match="speaker label per train vector"):
        score_trials(ScoringOptions(lda_dim=2), vectors, trials, np.ones((4, 3)))


def test_bad_vectors_name_their_key():
    trials = Trials(["a"], ["b"], np.array([True]))
    with pytest.raises(ValueError, match=r"vector of 'b' has shape \(2,\); 1 of 2 vectors have shape \(3,\)"):
        score_trials(ScoringOptions(), {"a": np.ones(3), "b": np.ones(2)}, trials)
    with pytest.raises(ValueError, match=r"vector of 'b' contains NaN or inf"):
        score_trials(ScoringOptions(), {"a": np.ones(3), "b": np.array([1.0, np.nan, 0.0])}, trials)


def test_an_odd_first_vector_is_the_one_named():
    """The first key (sorted) has the odd dimension: it is named, not the healthy key after it."""
    trials = Trials(["a", "a"], ["b", "c"], np.array([True, False]))
    vectors = {"a": np.ones(5), "b": np.ones(3), "c": np.arange(3.0)}
    with pytest.raises(ValueError, match=r"vectors: vector of 'a' has shape \(5,\); 2 of 3 vectors have shape \(3,\)"):
        score_trials(ScoringOptions(), vectors, trials)


def test_train_and_trial_vectors_of_different_dimension_name_both():
    trials = Trials(["a"], ["b"], np.array([True]))
    vectors = {"a": np.ones(3), "b": np.arange(3.0)}
    with pytest.raises(ValueError, match=r"test.scp are 3-dimensional but train.scp are 4-dimensional"):
        score_trials(ScoringOptions(mean_norm=True), vectors, trials, np.ones((6, 4)), sources=("test.scp", "train.scp"))
