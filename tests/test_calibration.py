"""Logistic-regression calibration against scikit-learn, calibration trial lists, and the
make_calibration_trials -> calibrate -> compute_metrics commands end to end."""
import itertools
import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from pyspk.bin import calibrate, compute_metrics, make_calibration_trials
from pyspk.calibration import calibration_trials, fit_calibration
from pyspk.io.trials import Trials, read_scores, read_trials, write_scores, write_trials
from pyspk.llr_metrics import cllr, min_cllr
from pyspk.metrics import eer_bootstrap_ci, kaldi_eer


def cosine_trials(n_spk=12, n_utt=5, seed=0, noise=1.0):
    """(utt2spk, vectors) of n_spk speakers' noisy unit vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_spk, 24))
    utt2spk, vectors = {}, {}
    for s in range(n_spk):
        for u in range(n_utt):
            name = f"s{seed}p{s:02d}-u{u}"
            v = centres[s] + noise * rng.normal(size=24)
            utt2spk[name], vectors[name] = f"s{seed}p{s:02d}", v / np.linalg.norm(v)
    return utt2spk, vectors


def score(rows, vectors):
    return np.array([vectors[a] @ vectors[b] for a, b, _ in rows]), np.array([t for _, _, t in rows])


@pytest.mark.parametrize("prior", [0.5, 0.01])
def test_fit_matches_prior_weighted_scikit_learn(prior):
    utt2spk, vectors = cosine_trials()
    scores, labels = score(calibration_trials(utt2spk, utt2spk, nontarget_ratio=5), vectors)
    cal = fit_calibration(scores, labels, prior)
    weight = np.where(labels, prior / labels.sum(), (1 - prior) / (~labels).sum())
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000)
    ref.fit(scores[:, None], labels, sample_weight=weight * len(labels))
    assert cal.scale == pytest.approx(ref.coef_[0, 0], rel=1e-4)
    assert cal.offset == pytest.approx(ref.intercept_[0] - np.log(prior / (1 - prior)), rel=1e-4, abs=1e-4)


def test_calibration_on_development_speakers_transfers_to_others():
    dev, dev_vectors = cosine_trials(seed=1)
    test, test_vectors = cosine_trials(seed=2)
    cal = fit_calibration(*score(calibration_trials(dev, dev, nontarget_ratio=10), dev_vectors))
    scores, labels = score(calibration_trials(test, test, nontarget_ratio=10, seed=5), test_vectors)
    llr = cal(scores)
    assert cal.scale > 0 and kaldi_eer(llr, labels)[0] == kaldi_eer(scores, labels)[0]
    # Raw cosines are poor LLRs; calibrated they are close to the best monotonic map of these very trials.
    assert cllr(scores, labels) > 0.8
    assert min_cllr(llr, labels) <= cllr(llr, labels) < min_cllr(llr, labels) + 0.1


def test_calibration_trials():
    utt2spk = {f"a{i}": "a" for i in range(4)} | {f"b{i}": "b" for i in range(3)} | {"c0": "c"}
    rows = calibration_trials(utt2spk, utt2spk, nontarget_ratio=1.5, seed=3)
    targets = {(a, b) for a, b, t in rows if t}
    assert targets == {(f"a{i}", f"a{j}") for i in range(4) for j in range(i + 1, 4)} | \
        {(f"b{i}", f"b{j}") for i in range(3) for j in range(i + 1, 3)}
    nontargets = [(a, b) for a, b, t in rows if not t]
    assert len(nontargets) == 14 and len(set(nontargets)) == 14
    assert all(utt2spk[a] != utt2spk[b] and a < b for a, b in nontargets)
    assert rows == calibration_trials(utt2spk, utt2spk, nontarget_ratio=1.5, seed=3)
    assert rows != calibration_trials(utt2spk, utt2spk, nontarget_ratio=1.5, seed=4)
    # Enrollment from validation utterances, tests from training ones; targets capped by a draw.
    val = {"a9": "a", "b9": "b"}
    rows = calibration_trials(val, utt2spk, max_targets=5, nontarget_ratio=1, seed=0)
    assert sum(t for *_, t in rows) == 5 and all("9" in a + b for a, b, _ in rows)
    with pytest.raises(ValueError, match="no same-speaker pair"):
        calibration_trials({"x": "x", "y": "y"}, {"x": "x", "y": "y"})


def test_commands_end_to_end(tmp_path, capsys):
    dev, dev_vectors = cosine_trials(seed=3)
    test, test_vectors = cosine_trials(seed=4)
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in sorted(dev.items())))
    (tmp_path / "dev" / "spk2utt").write_text("".join(
        f"{s} {' '.join(u for u in sorted(dev) if dev[u] == s)}\n" for s in sorted(set(dev.values()))))
    make_calibration_trials.main(["--nontarget-ratio=4", str(tmp_path / "dev"), str(tmp_path / "cal_trials")])
    cal_trials = read_trials(tmp_path / "cal_trials")
    write_scores(tmp_path / "cal_scores", cal_trials,
                 [dev_vectors[a] @ dev_vectors[b] for a, b in zip(cal_trials.enroll, cal_trials.test)])
    rows = calibration_trials(test, test, nontarget_ratio=6, seed=9)
    test_dir = tmp_path / "test"
    test_dir.mkdir()
    (test_dir / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in sorted(test.items())))
    trials = Trials([r[0] for r in rows], [r[1] for r in rows], np.array([r[2] for r in rows]))
    write_trials(test_dir / "trials", trials)
    raw = np.array([test_vectors[a] @ test_vectors[b] for a, b, _ in rows])
    write_scores(tmp_path / "scores", trials, raw)
    calibrate.main([str(tmp_path / p) for p in ("cal_trials", "cal_scores", "test/trials", "scores", "llr")])
    llr, _ = read_scores(tmp_path / "llr", trials)
    expected = fit_calibration(read_scores(tmp_path / "cal_scores", cal_trials)[0], cal_trials.target)(raw)
    np.testing.assert_allclose(llr, expected, rtol=1e-7, atol=1e-7)
    capsys.readouterr()
    compute_metrics.main(["--exp-root", str(tmp_path / "exp"), "--system", "sys", "--llr", "true",
                          "--bootstrap-draws", "100", str(test_dir / "trials"), str(tmp_path / "llr")])
    out = capsys.readouterr().out.splitlines()
    labels = trials.target
    assert out[0] == f"EER: {100 * kaldi_eer(llr, labels)[0]:.4f}%"
    assert f"Cllr: {cllr(llr, labels):.4f}" in out and f"minCllr: {min_cllr(llr, labels):.4f}" in out
    assert [line.split(":")[0] for line in out[4:]] == [
        "Cllr", "minCllr", "actDCF(p-target=0.01)", "actDCF(p-target=0.001)", "actDCF(p-target=0.05)", "EER 95% CI"]
    spk = np.array([test[a] for a in trials.enroll]), np.array([test[b] for b in trials.test])
    lo, hi, _ = eer_bootstrap_ci(llr, labels, *spk, n_boot=100, seed=0)
    assert out[-1] == f"EER 95% CI: [{lo:.4f}%, {hi:.4f}%]"
    assert re.fullmatch(r"EER 95% CI: \[\d+\.\d{4}%, \d+\.\d{4}%\]", out[-1])
    table = (tmp_path / "exp" / "RESULTS").read_text()
    assert "sys" in table and f"{cllr(llr, labels):.4f}" in table


def test_complete_development_list_has_every_pair_once():
    utt2spk = {f"s{s}-u{u}": f"s{s}" for s in range(3) for u in range(4)}
    rows = calibration_trials(utt2spk, utt2spk, max_targets=0, nontarget_ratio=0)
    pairs = [frozenset(r[:2]) for r in rows]
    assert len(pairs) == len(set(pairs)) == 12 * 11 // 2
    assert set(pairs) == {frozenset(p) for p in itertools.combinations(utt2spk, 2)}
    assert all(r[2] == (utt2spk[r[0]] == utt2spk[r[1]]) for r in rows)
    assert sum(r[2] for r in rows) == 3 * 6
