"""Diagonal GMM: EM recovers a known mixture with a never-decreasing likelihood, MAP limits,
log-likelihoods against scipy, top-C LLR, frame pipeline and bad-input errors."""
import logging

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from pyspk.backend import gmm as G
from pyspk.backend import gmm_init as GI
from pyspk.backend import gmm_stats as GS
from pyspk.backend import gmm_ubm as GU
from pyspk.backend.frames import FrameOptions, FramesError, frame_blocks, iter_frames
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import write_map

TRUE = G.DiagGmm(np.array([0.1, 0.2, 0.3, 0.4]),
                 np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 3.0], [0.0, 7.0, -4.0], [-6.0, -5.0, 5.0]]),
                 np.array([[1.0, 0.5, 2.0], [0.3, 1.0, 1.0], [2.0, 1.5, 0.5], [1.0, 1.0, 1.0]]))


def sample(gmm, n, seed=0):
    rng = np.random.default_rng(seed)
    comp = rng.choice(gmm.num_gauss, n, p=gmm.weights)
    x = gmm.means[comp] + rng.standard_normal((n, gmm.dim)) * np.sqrt(gmm.variances[comp])
    return x.astype(np.float32)


def reference_log_likelihoods(gmm, x):
    """(T, C) log(w_c N(x; mu_c, var_c)) by scipy, float64."""
    return np.stack([np.log(w) + multivariate_normal(m, np.diag(v)).logpdf(x.astype(np.float64))
                     for w, m, v in zip(gmm.weights, gmm.means, gmm.variances)], axis=1)


def match_components(est, true):
    """Order of est's components nearest to each true component's mean."""
    d = ((true.means[:, None, :] - est.means[None, :, :]) ** 2).sum(axis=2)
    order = d.argmin(axis=1)
    assert len(set(order)) == true.num_gauss
    return order


def test_log_likelihoods_match_scipy():
    x = sample(TRUE, 500)
    got = G.GmmScorer(TRUE, compute_dtype=torch.float64).log_likelihoods(torch.as_tensor(x, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), reference_log_likelihoods(TRUE, x), rtol=1e-10, atol=1e-10)
    got32 = G.GmmScorer(TRUE).log_likelihoods(torch.as_tensor(x))  # the default float32 E-step
    np.testing.assert_allclose(got32.double().numpy(), reference_log_likelihoods(TRUE, x), atol=2e-4)


@pytest.mark.parametrize("init", ["kmeans", "split"])
def test_em_recovers_a_known_mixture_and_never_decreases_the_likelihood(init):
    x = sample(TRUE, 20000)
    if init == "kmeans":
        gmm = GI.init_by_kmeans(x, 4, iters=5, seed=1)
    else:
        gmm = GI.init_by_splitting(x, 4, iters_per_split=3)
    history = []
    for _ in range(15):
        gmm, avg_ll = GI.em_step(gmm, x, compute_dtype=torch.float64)
        history.append(avg_ll)
    assert np.all(np.diff(history) >= -1e-9), history
    # the default float32 E-step follows the same path to within its rounding (~1e-5 nats/frame)
    _, avg32 = GI.em_step(gmm, x)
    assert abs(avg32 - GI.em_step(gmm, x, compute_dtype=torch.float64)[1]) < 1e-5
    order = match_components(gmm, TRUE)
    np.testing.assert_allclose(gmm.weights[order], TRUE.weights, atol=0.01)
    np.testing.assert_allclose(gmm.means[order], TRUE.means, atol=0.06)
    np.testing.assert_allclose(gmm.variances[order], TRUE.variances, rtol=0.08)
    # the fitted model is at least as likely as the true one on its own training data
    true_ll = np.mean(np.logaddexp.reduce(reference_log_likelihoods(TRUE, x), axis=1))
    assert history[-1] >= true_ll - 1e-3


def test_em_from_stats_of_parallel_jobs_equals_one_job():
    """Statistics of two halves summed give the same update as the whole (the parallel EM)."""
    x = sample(TRUE, 4000, seed=3)
    start = GI.init_by_kmeans(x, 4, iters=2)
    scorer = G.GmmScorer(start)
    whole = GS.GmmStats.empty(4, 3)
    GS.accumulate(scorer, x, whole)
    halves = GS.GmmStats.empty(4, 3)
    for part in (x[:1500], x[1500:]):
        s = GS.GmmStats.empty(4, 3)
        GS.accumulate(scorer, part, s)
        halves += s
    a, _ = start.reestimated(whole)
    b, _ = start.reestimated(halves)
    np.testing.assert_allclose(a.means, b.means, rtol=1e-6)
    np.testing.assert_allclose(a.variances, b.variances, rtol=1e-6)
    assert whole.frames == halves.frames == 4000


def test_model_and_stats_files_round_trip(tmp_path):
    TRUE.save(tmp_path / "m.ubm")
    back = G.DiagGmm.load(tmp_path / "m.ubm")
    np.testing.assert_array_equal(back.means, TRUE.means)
    s = GS.GmmStats.empty(4, 3)
    GS.accumulate(G.GmmScorer(TRUE), sample(TRUE, 100), s)
    s.save(tmp_path / "s.acc")
    t = GS.GmmStats.load(tmp_path / "s.acc")
    np.testing.assert_array_equal(t.first, s.first)
    assert t.frames == 100 and t.loglike == s.loglike


def ubm_posterior_stats(x):
    """Zeroth/first-order stats under TRUE with posteriors computed by scipy."""
    ll = reference_log_likelihoods(TRUE, x)
    post = np.exp(ll - np.logaddexp.reduce(ll, axis=1, keepdims=True))
    return post.sum(axis=0), post.T @ x.astype(np.float64)


def test_map_limits():
    x = sample(G.DiagGmm(TRUE.weights, TRUE.means + 0.7, TRUE.variances), 300, seed=5)
    stats = GS.GmmStats.empty(4, 3)
    GS.accumulate(G.GmmScorer(TRUE, compute_dtype=torch.float64), x, stats)
    n, f = ubm_posterior_stats(x)
    np.testing.assert_allclose(stats.zero, n, rtol=1e-8)
    # relevance factor -> infinity: the UBM is unchanged
    np.testing.assert_allclose(GU.map_adapt_means(TRUE, stats, np.inf), TRUE.means)
    np.testing.assert_allclose(GU.map_adapt_means(TRUE, stats, 1e12), TRUE.means, atol=1e-7)
    # relevance factor 0: the maximum-likelihood means given the UBM's posteriors
    np.testing.assert_allclose(GU.map_adapt_means(TRUE, stats, 0.0), f / n[:, None], rtol=1e-8)
    # in between: an interpolation, moving each mean towards its data by n / (n + r)
    mid = GU.map_adapt_means(TRUE, stats, 16.0)
    alpha = n / (n + 16.0)
    np.testing.assert_allclose(mid, TRUE.means + alpha[:, None] * (f / n[:, None] - TRUE.means), rtol=1e-8)


def test_map_keeps_the_ubm_mean_of_an_unseen_component():
    stats = GS.GmmStats.empty(4, 3)
    # top-1 selection: every frame sits wholly on component 0; the others see no data at all
    GS.accumulate(G.GmmScorer(TRUE), np.zeros((50, 3), np.float32), stats, top_c=1)
    np.testing.assert_array_equal(stats.zero, [50, 0, 0, 0])
    adapted = GU.map_adapt_means(TRUE, stats, 0.0)
    np.testing.assert_array_equal(adapted[1:], TRUE.means[1:])
    np.testing.assert_allclose(adapted[0], 0.0, atol=1e-12)


def test_llr_is_zero_for_the_ubm_itself_and_positive_for_the_adapted_speaker():
    x = sample(TRUE, 400)
    llr = GU.LlrScorer(TRUE, top_c=2)
    prep = llr.prepare(x)
    assert abs(llr.score(llr.speaker_means(TRUE.means), prep)) < 1e-5
    shifted = G.DiagGmm(TRUE.weights, TRUE.means + 0.8, TRUE.variances)
    enrol, test, other = sample(shifted, 400, 1), sample(shifted, 400, 2), sample(TRUE, 400, 3)
    stats = GS.GmmStats.empty(4, 3)
    GS.accumulate(llr.ubm_scorer, enrol, stats)
    model = llr.speaker_means(GU.map_adapt_means(TRUE, stats, 16.0))
    assert llr.score(model, llr.prepare(test)) > 0.3 > llr.score(model, llr.prepare(other))


def test_llr_with_all_components_is_the_exact_likelihood_ratio():
    x = sample(TRUE, 200, seed=7)
    means = TRUE.means + np.random.default_rng(0).normal(0, 0.5, TRUE.means.shape)
    speaker = G.DiagGmm(TRUE.weights, means, TRUE.variances)
    want = np.mean(np.logaddexp.reduce(reference_log_likelihoods(speaker, x), axis=1)
                   - np.logaddexp.reduce(reference_log_likelihoods(TRUE, x), axis=1))
    llr = GU.LlrScorer(TRUE, top_c=4)
    assert abs(llr.score(llr.speaker_means(means), llr.prepare(x)) - want) < 1e-4


def test_reservoir_sample_is_bounded_and_uniform():
    blocks = [np.full((100, 1), i, dtype=np.float32) for i in range(50)]  # 5,000 rows, 50 values
    s = GI.reservoir_sample(blocks, 1000, seed=0)
    assert s.shape == (1000, 1)
    counts = np.bincount(s[:, 0].astype(int), minlength=50)
    assert counts.min() > 5 and counts.max() < 40  # 20 expected for every block
    assert GI.reservoir_sample(blocks[:2], 1000).shape == (200, 1)


def test_wrong_dimension_is_a_clear_error(tmp_path):
    with pytest.raises(G.GmmError, match="model has dimension 3 but the features have dimension 13"):
        G.GmmScorer(TRUE).to_tensor(np.zeros((10, 13), np.float32))
    with open(tmp_path / "bad.ubm", "wb") as f:
        np.savez(f, weights=np.ones(2), means=np.zeros((2, 3)), variances=np.ones((3, 3)))
    with pytest.raises(G.GmmError, match="bad.ubm: inconsistent shapes"):
        G.DiagGmm.load(tmp_path / "bad.ubm")
    (tmp_path / "junk.ubm").write_text("not a model")
    with pytest.raises(G.GmmError, match="junk.ubm: not a diagonal GMM file"):
        G.DiagGmm.load(tmp_path / "junk.ubm")


def make_mfcc_dir(path, feats, vads):
    """A data dir with feats.scp + vad.scp from dicts utt -> array."""
    path.mkdir()
    with ArkScpWriter(str(path / "feats.ark"), str(path / "feats.scp")) as w:
        for utt, m in feats.items():
            w.write(utt, m)
    with ArkScpWriter(str(path / "vad.ark"), str(path / "vad.scp")) as w:
        for utt, v in vads.items():
            w.write(utt, v)
    write_map(str(path / "utt2spk"), {u: u.split("-")[0] for u in feats})
    return str(path)


def test_frames_pipeline_skips_and_reports_an_utterance_without_voiced_frames(tmp_path, caplog):
    rng = np.random.default_rng(0)
    feats = {f"spk{i}-u": rng.standard_normal((120, 13)).astype(np.float32) for i in range(3)}
    vads = {u: (np.arange(120) % 2).astype(np.float32) for u in feats}
    vads["spk1-u"] = np.zeros(120, np.float32)
    del vads["spk2-u"]
    d = make_mfcc_dir(tmp_path / "d", feats, vads)
    caplog.set_level(logging.INFO, logger="pyspk.backend.frames")
    out = dict(iter_frames(d, FrameOptions()))
    log = [r.getMessage() for r in caplog.records]
    assert list(out) == ["spk0-u"] and out["spk0-u"].shape == (60, 39)
    assert any("WARNING: skipping spk1-u" in m and "vad.scp" in m and "no voiced frames" in m for m in log)
    assert any("WARNING: skipping spk2-u" in m and "no entry in vad.scp" in m for m in log)
    # static MFCC only, no VAD: all frames, 13 dims, mean-normalised
    plain = dict(iter_frames(d, FrameOptions(add_deltas=False, use_vad=False)))
    assert plain["spk1-u"].shape == (120, 13)
    np.testing.assert_allclose(plain["spk1-u"].mean(axis=0), 0, atol=1e-5)
    # blocks of consecutive utterances: the same frames, in order, each block but the last >= the size
    blocks = list(frame_blocks(iter_frames(d, FrameOptions(add_deltas=False, use_vad=False)), 200))
    assert [b.shape[0] for b in blocks] == [240, 120]
    np.testing.assert_array_equal(np.concatenate(blocks), np.concatenate(list(plain.values())))
    # nothing usable is an error naming the dir
    only_bad = make_mfcc_dir(tmp_path / "e", {"spk1-u": feats["spk1-u"]}, {"spk1-u": vads["spk1-u"]})
    with pytest.raises(FramesError, match="no usable utterance"):
        list(iter_frames(only_bad, FrameOptions()))
