"""Full-covariance GMM refinement: log-likelihoods against scipy, EM from the diagonal model recovers
a known full-covariance mixture with a never-decreasing likelihood, files, and i-vector statistics
aligned by it."""
import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from pyspk.backend import full_gmm as F
from pyspk.backend.baum_welch import StatsComputer
from pyspk.backend.em_stats import StatsError
from pyspk.backend.gmm import DiagGmm, GmmError
from pyspk.backend.gmm_stats import GmmStats, accumulate
from pyspk.backend.ivector import IvectorExtractor


def known_full(seed=0):
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0, 0.0], [8.0, 0.0, 4.0], [0.0, 8.0, -4.0]])
    covars = []
    for _ in range(3):
        a = rng.normal(size=(3, 3))
        covars.append(a @ a.T + 0.3 * np.eye(3))
    return F.FullGmm(np.array([0.2, 0.3, 0.5]), means, np.array(covars))


def sample(gmm, n, seed=1):
    rng = np.random.default_rng(seed)
    comp = rng.choice(gmm.num_gauss, n, p=gmm.weights)
    chol = np.linalg.cholesky(gmm.covars)
    return (gmm.means[comp] + np.einsum("tij,tj->ti", chol[comp], rng.standard_normal((n, gmm.dim)))).astype(np.float32)


def reference(gmm, x):
    return np.stack([np.log(w) + multivariate_normal(m, c).logpdf(x.astype(np.float64))
                     for w, m, c in zip(gmm.weights, gmm.means, gmm.covars)], axis=1)


def test_log_likelihoods_match_scipy():
    true = known_full()
    x = sample(true, 300)
    got = true.scorer().log_likelihoods(torch.as_tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, reference(true, x), rtol=1e-9, atol=1e-9)


def em(gmm, x, iters):
    history = []
    for _ in range(iters):
        stats = gmm.empty_stats()
        accumulate(gmm.scorer(), x, stats)
        history.append(stats.loglike / stats.frames)
        gmm, _ = gmm.reestimated(stats)
    return gmm, history


def test_refinement_from_the_diagonal_model_recovers_a_full_covariance_mixture():
    true = known_full()
    x = sample(true, 30000)
    # a diagonal start near the truth, as the diagonal UBM would give
    diag = DiagGmm(np.full(3, 1 / 3), true.means + 0.5, true.variances)
    start = F.FullGmm.from_diag(diag)
    np.testing.assert_allclose(start.scorer().log_likelihoods(torch.as_tensor(x[:50], dtype=torch.float64)).numpy(),
                               diag.scorer().log_likelihoods(torch.as_tensor(x[:50])).double().numpy(), atol=1e-3)
    gmm, history = em(start, x, 12)
    assert np.all(np.diff(history) >= -1e-9), history
    np.testing.assert_allclose(gmm.weights, true.weights, atol=0.01)
    np.testing.assert_allclose(gmm.means, true.means, atol=0.06)
    np.testing.assert_allclose(gmm.covars, true.covars, rtol=0.06, atol=0.06)  # sampling error
    true_ll = np.mean(np.logaddexp.reduce(reference(true, x), axis=1))
    assert history[-1] >= true_ll - 1e-3


def test_statistics_of_jobs_add_up_and_files_round_trip(tmp_path):
    true = known_full()
    x = sample(true, 2000)
    whole, parts = true.empty_stats(), true.empty_stats()
    accumulate(true.scorer(), x, whole)
    for chunk in (x[:700], x[700:]):
        s = true.empty_stats()
        accumulate(true.scorer(), chunk, s)
        s.save(tmp_path / "s.acc")
        parts += GmmStats.load(tmp_path / "s.acc")  # what update_gmm does with each job's file
    np.testing.assert_allclose(parts.second, whole.second, rtol=1e-10)
    true.save(tmp_path / "full.ubm")
    back = F.load_ubm(tmp_path / "full.ubm")
    assert isinstance(back, F.FullGmm)
    np.testing.assert_array_equal(back.covars, true.covars)
    DiagGmm(true.weights, true.means, true.variances).save(tmp_path / "diag.ubm")
    assert isinstance(F.load_ubm(tmp_path / "diag.ubm"), DiagGmm)
    with pytest.raises(StatsError, match="cannot add GMM statistics of second shapes"):
        parts += GmmStats.empty(3, 3)
    with pytest.raises(GmmError, match="model has dimension 3 but the features have dimension 13"):
        true.scorer().to_tensor(np.zeros((4, 13), np.float32))


def test_eigenvalue_floor_keeps_covariances_positive_definite():
    true = known_full()
    x = sample(true, 50)
    x[:, 2] = 2 * x[:, 0]  # a degenerate direction in every component
    gmm, _ = em(true, x, 2)
    assert np.linalg.eigvalsh(gmm.covars).min() >= 1e-3 - 1e-12


def test_ivector_extractor_aligns_with_a_full_covariance_ubm(tmp_path):
    true = known_full()
    model = IvectorExtractor.init_random(true, 2)
    np.testing.assert_allclose(model.sigma, true.variances)
    model.save(tmp_path / "x.ie")
    back = IvectorExtractor.load(tmp_path / "x.ie")
    assert isinstance(back.ubm, F.FullGmm)
    x = sample(true, 200)
    n, f, _ = StatsComputer(back.ubm, top_c=0)(x)
    ll = reference(true, x)
    post = np.exp(ll - np.logaddexp.reduce(ll, axis=1, keepdims=True))
    np.testing.assert_allclose(n.numpy(), post.sum(axis=0), rtol=1e-8)
    np.testing.assert_allclose(f.numpy(), post.T @ x.astype(np.float64) - post.sum(axis=0)[:, None] * true.means,
                               rtol=1e-6, atol=1e-6)
