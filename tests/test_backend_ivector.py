"""i-vectors: EM objective never decreases, i-vectors of data drawn from a known total-variability
model track the true factors, the batched posterior equals the textbook formula, files and errors;
SVM identification picks C on validation."""
import numpy as np
import pytest

from pyspk.backend import baum_welch as BW
from pyspk.backend import ivector as I
from pyspk.backend.em_stats import StatsError
from pyspk.backend.gmm import DiagGmm, GmmError
from pyspk.backend.svm import SvmIdentifier, choose_c, l2_normalise

C, D, R = 8, 4, 3


def known_model(seed=0):
    rng = np.random.default_rng(seed)
    ubm = DiagGmm(np.full(C, 1.0 / C), rng.normal(0, 5, (C, D)), rng.uniform(0.5, 1.5, (C, D)))
    return ubm, rng.normal(0, 0.7, (C, D, R))


def draw_utterances(ubm, T, n_utts, frames=150, seed=1):
    """Frames of utterances with factors w ~ N(0, I): component c ~ weights, x ~ N(mu_c + T_c w, var_c)."""
    rng = np.random.default_rng(seed)
    ws, utts = rng.standard_normal((n_utts, R)), []
    for w in ws:
        comp = rng.choice(C, frames, p=ubm.weights)
        shift = T @ w  # (C, D)
        x = ubm.means[comp] + shift[comp] + rng.standard_normal((frames, D)) * np.sqrt(ubm.variances[comp])
        utts.append(x.astype(np.float32))
    return ws, utts


@pytest.fixture(scope="module")
def synthetic():
    ubm, T = known_model()
    ws, utts = draw_utterances(ubm, T, 300)
    stats_of = BW.StatsComputer(ubm, top_c=0)
    batches = list(BW.batched_stats(((f"u{i}", u) for i, u in enumerate(utts)), stats_of, batch_size=64))
    return ubm, ws, batches


def train(model, batches, iters):
    objectives = []
    for _ in range(iters):
        acc = I.IvectorStats.empty(C, D, R)
        computer = I.IvectorComputer(model)
        for _, batch in batches:
            computer.accumulate(batch, acc)
        objectives.append(acc.objective / acc.utts)
        model = model.reestimated(acc)
    return model, objectives


def test_em_objective_never_decreases_and_ivectors_track_the_true_factors(synthetic):
    ubm, ws, batches = synthetic
    model, objectives = train(I.IvectorExtractor.init_random(ubm, R, seed=3), batches, 8)
    assert np.all(np.diff(objectives) >= -1e-8), objectives
    assert objectives[-1] > objectives[0] + 10
    est = np.concatenate([I.IvectorComputer(model).posterior(b)[0].numpy() for _, b in batches])
    # the model is identifiable up to a rotation: regress the true factors on the estimated ones
    design = np.c_[est, np.ones(len(est))]
    coef = np.linalg.lstsq(design, ws, rcond=None)[0]
    r2 = 1 - ((design @ coef - ws) ** 2).sum(axis=0) / ((ws - ws.mean(axis=0)) ** 2).sum(axis=0)
    assert np.all(r2 > 0.9), r2
    # an untrained (random) extractor does much worse
    rand = np.concatenate([I.IvectorComputer(I.IvectorExtractor.init_random(ubm, R, seed=3)).posterior(b)[0].numpy()
                           for _, b in batches])
    design = np.c_[rand, np.ones(len(rand))]
    coef = np.linalg.lstsq(design, ws, rcond=None)[0]
    assert np.mean(1 - ((design @ coef - ws) ** 2).sum(axis=0) / ((ws - ws.mean(axis=0)) ** 2).sum(axis=0)) < 0.8


def test_statistics_of_parallel_jobs_add_up(synthetic):
    ubm, _, batches = synthetic
    model = I.IvectorExtractor.init_random(ubm, R, seed=1)
    computer = I.IvectorComputer(model)
    whole, part1, part2 = (I.IvectorStats.empty(C, D, R) for _ in range(3))
    for i, (_, b) in enumerate(batches):
        computer.accumulate(b, whole)
        computer.accumulate(b, part1 if i % 2 else part2)
    part1 += part2
    np.testing.assert_allclose(part1.A, whole.A, rtol=1e-12)
    np.testing.assert_allclose(model.reestimated(part1).T, model.reestimated(whole).T, rtol=1e-9)


def test_statistics_archive_written_once_gives_the_same_em_statistics(synthetic, tmp_path):
    """The alignment computed once and read back from its archive (what every EM iteration of
    steps/train_ivector_extractor.sh reads) accumulates what the statistics computed in memory do."""
    ubm, _, batches = synthetic
    n = BW.write_stats_archive(batches, tmp_path / "bw.1.ark", tmp_path / "bw.1.scp")
    assert n == sum(len(utts) for utts, _ in batches)
    model = I.IvectorExtractor.init_random(ubm, R, seed=1)
    computer = I.IvectorComputer(model)
    direct, cached = I.IvectorStats.empty(C, D, R), I.IvectorStats.empty(C, D, R)
    for _, b in batches:
        computer.accumulate(b, direct)
    read_back = list(BW.read_stats_archive(tmp_path / "bw.1.scp", batch_size=50))
    assert sorted(u for utts, _ in read_back for u in utts) == sorted(u for utts, _ in batches for u in utts)
    for _, b in read_back:
        computer.accumulate(b, cached)
    assert cached.utts == direct.utts
    for name in ("A", "C", "N", "S"):   # the archive stores N and F~ as float32
        np.testing.assert_allclose(getattr(cached, name), getattr(direct, name), rtol=1e-5, atol=1e-6)
    assert cached.objective == pytest.approx(direct.objective, rel=1e-6)
    (tmp_path / "bw.1.ark.second.npy").unlink()
    with pytest.raises(ValueError, match="bw.1.scp: cannot read its summed second-order statistics"):
        list(BW.read_stats_archive(tmp_path / "bw.1.scp"))


def test_batched_posterior_equals_the_textbook_formula(synthetic):
    ubm, _, batches = synthetic
    model = I.IvectorExtractor.init_random(ubm, R, seed=2)
    model.sigma = model.sigma * np.random.default_rng(0).uniform(0.5, 2.0, model.sigma.shape)
    stats = batches[0][1]
    w, cov, _ = I.IvectorComputer(model).posterior(stats)
    for u in range(3):
        n, f = stats.N[u].numpy(), stats.F[u].numpy()
        L = np.eye(R) + sum(n[c] * model.T[c].T @ np.diag(1 / model.sigma[c]) @ model.T[c] for c in range(C))
        b = sum(model.T[c].T @ (f[c] / model.sigma[c]) for c in range(C))
        np.testing.assert_allclose(w[u].numpy(), np.linalg.solve(L, b), rtol=1e-9)
        np.testing.assert_allclose(cov[u].numpy(), np.linalg.inv(L), rtol=1e-9, atol=1e-12)


def test_centred_statistics_match_a_direct_computation():
    ubm, T = known_model()
    _, utts = draw_utterances(ubm, T, 1, frames=40)
    n, f, s = BW.StatsComputer(ubm, top_c=0)(utts[0])
    x = utts[0].astype(np.float64)
    ll = np.stack([np.log(ubm.weights[c]) - 0.5 * np.sum(np.log(2 * np.pi * ubm.variances[c])
                   + (x - ubm.means[c]) ** 2 / ubm.variances[c], axis=1) for c in range(C)], axis=1)
    post = np.exp(ll - np.logaddexp.reduce(ll, axis=1, keepdims=True))
    centred = x[:, None, :] - ubm.means[None]  # (T, C, D)
    np.testing.assert_allclose(n.numpy(), post.sum(axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(f.numpy(), np.einsum("tc,tcd->cd", post, centred), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(s.numpy(), np.einsum("tc,tcd->cd", post, centred ** 2), rtol=1e-4, atol=1e-3)


def test_files_round_trip_and_bad_input(tmp_path):
    ubm, _ = known_model()
    model = I.IvectorExtractor.init_random(ubm, R)
    model.save(tmp_path / "m.ie")
    back = I.IvectorExtractor.load(tmp_path / "m.ie")
    np.testing.assert_array_equal(back.T, model.T)
    with open(tmp_path / "bad.ie", "wb") as f:
        np.savez(f, ubm_weights=ubm.weights, ubm_means=ubm.means, ubm_variances=ubm.variances,
                 T=model.T[:, :2], sigma=model.sigma)
    with pytest.raises(I.IvectorError, match="bad.ie: T .* do not match the UBM"):
        I.IvectorExtractor.load(tmp_path / "bad.ie")
    with pytest.raises(GmmError, match="model has dimension 4 but the features have dimension 13"):
        BW.StatsComputer(ubm)(np.zeros((20, 13), np.float32))
    acc = I.IvectorStats.empty(C, D, R)
    with pytest.raises(StatsError, match="cannot add i-vector statistics of A shapes"):
        acc += I.IvectorStats.empty(C, D, R + 1)


def test_svm_identification_chooses_c_on_validation():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((6, 20))

    def draw(n):
        labels = np.repeat([f"spk{i}" for i in range(6)], n)
        idx = np.repeat(np.arange(6), n)
        return centres[idx] + 0.6 * rng.standard_normal((len(idx), 20)), list(labels)

    train, val, test = draw(10), draw(4), draw(6)
    model, best_c, table = choose_c(train, val, [100.0, 1e-4, 1.0])
    assert sorted(table) == [1e-4, 1.0, 100.0]
    assert best_c == min(c for c in table if table[c] == max(table.values()))  # smaller C on ties
    assert table[best_c] == SvmIdentifier(best_c).fit(*train).accuracy(*val, ks=(1,))[1]
    acc = model.accuracy(*test)
    assert acc[1] > 90 and acc[5] == 100.0
    assert model.scores(test[0]).shape == (36, 6)
    # scale does not matter: vectors are L2-normalised
    np.testing.assert_allclose(model.scores(10 * test[0]), model.scores(test[0]))
    np.testing.assert_allclose(np.linalg.norm(l2_normalise(test[0]), axis=1), 1.0)
    with pytest.raises(ValueError, match="not seen in training"):
        SvmIdentifier().fit(*train).accuracy(test[0][:1], ["stranger"])
