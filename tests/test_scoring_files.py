"""Trials and score files, the results table, and the score -> metrics -> results steps end to end."""
import json
import multiprocessing
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT as REPO
from pyspk import results
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.trials import TrialsError, read_scores, read_trials, write_scores, write_trials
from pyspk.metrics import kaldi_eer, min_dcf

DEMO_TRIALS = os.path.join(REPO, "egs", "demo", "corpus", "veri_test.txt")


def write(path, text):
    path.write_text(text)
    return str(path)


def test_voxceleb_and_kaldi_forms_read_the_same(tmp_path):
    vox = write(tmp_path / "vox", "1 id10270/x6uYqmx31kE/00001.wav id10270/8jEAjG6SegY/00008.wav\n"
                                  "0 id10270/x6uYqmx31kE/00001.wav id10300/ize_eiCFEg0/00003.wav\n")
    trials = read_trials(vox)
    assert trials.enroll == ["id10270-x6uYqmx31kE-00001"] * 2
    assert trials.test == ["id10270-8jEAjG6SegY-00008", "id10300-ize_eiCFEg0-00003"]
    assert trials.target.tolist() == [True, False]
    write_trials(tmp_path / "kaldi", trials)
    assert (tmp_path / "kaldi").read_text().splitlines() == [
        "id10270-x6uYqmx31kE-00001 id10270-8jEAjG6SegY-00008 target",
        "id10270-x6uYqmx31kE-00001 id10300-ize_eiCFEg0-00003 nontarget"]
    again = read_trials(tmp_path / "kaldi")
    assert (again.enroll, again.test, again.target.tolist()) == (trials.enroll, trials.test, [True, False])


@pytest.mark.parametrize("text, message", [
    ("a b target\na c maybe\n", r":2: label must be 'target' or 'nontarget', got 'maybe'"),
    ("a b target\na b nontarget\n", r":2: duplicate trial a b \(first at line 1\)"),
    ("a b target\na c\n", r":2: expected 3 fields, got 2"),
    ("1 a.wav b.wav\n2 a.wav c.wav\n", r":2: VoxCeleb trials label must be 1 or 0, got '2'"),
    ("", r"empty trials file"),
])
def test_bad_trials_name_the_line(tmp_path, text, message):
    with pytest.raises(TrialsError, match=message):
        read_trials(write(tmp_path / "trials", text))


def test_scores_round_trip_in_any_order(tmp_path):
    trials = read_trials(write(tmp_path / "trials", "a b target\na c nontarget\nb c nontarget\n"))
    scores = np.array([0.5, -0.25, 0.125], dtype=np.float32)
    write_scores(tmp_path / "scores", trials, scores)
    back, order = read_scores(tmp_path / "scores", trials)
    np.testing.assert_array_equal(back, scores)
    assert order.tolist() == [0, 1, 2]
    other = write(tmp_path / "other", "b c 0.125\na b 0.5\na c -0.25\n")
    back, order = read_scores(other, trials)
    np.testing.assert_array_equal(back, scores)
    assert order.tolist() == [2, 0, 1]


@pytest.mark.parametrize("text, message", [
    ("a b 0.5\na c 0.1\n", r"scores 2 of 3 trials; first missing: b c \(.*trials:3\)"),
    ("a b 0.5\na c nan\nb c 0\n", r"scores:2: score is nan \(must be finite\)"),
    ("a b 0.5\na c -inf\nb c 0\n", r"scores:2: score is -inf"),
    ("a b 0.5\na c x1\nb c 0\n", r"scores:2: score is not a number: 'x1'"),
    ("a b 0.5\na d 1\nb c 0\n", r"scores:2: trial a d is not in"),
    ("a b 0.5\na b 0.5\n", r"scores:2: trial a b scored twice"),
])
def test_bad_scores_name_the_line(tmp_path, text, message):
    trials = read_trials(write(tmp_path / "trials", "a b target\na c nontarget\nb c nontarget\n"))
    with pytest.raises(TrialsError, match=message):
        read_scores(write(tmp_path / "scores", text), trials)


def test_record_merges_rows_and_keeps_paths_relative(tmp_path):
    exp = tmp_path / "exp"
    results.record(exp, "netB", top1=89.5, top5=97.04, dim=128, params=9634000, utts_counted=4, utts_listed=6)
    results.record(exp, "ivector", eer=8.8, mindcf_0_01=0.61, scores=exp / "ivector" / "scores",
                   trials=tmp_path / "trials", trials_counted=37611, trials_listed=37720)
    row = results.record(exp, "netB", eer=4.9051, **{"mindcf_0.01": 0.4812, "mindcf_0.001": 0.612})
    assert row == {"system": "netB", "top1": 89.5, "top5": 97.04, "dim": 128, "params": 9634000,
                   "utts_counted": 4, "utts_listed": 6, "eer": 4.9051, "mindcf_0.01": 0.4812, "mindcf_0.001": 0.612}
    stored = json.loads((exp / "RESULTS.json").read_text())
    assert stored["ivector"]["scores"] == os.path.join("ivector", "scores")
    assert stored["ivector"]["trials"] == os.path.join("..", "trials")
    assert results.load(exp)["ivector"]["trials"] == str(tmp_path / "trials")
    lines = (exp / "RESULTS").read_text().splitlines()
    assert lines[0].split() == ["system", "top-1%", "top-5%", "EER%", "minDCF0.01", "minDCF0.001",
                                "minDCF0.05", "dim", "params", "utts", "trials"]
    # What each figure counted: identification 4 of 6 utterances, verification 37611 of 37720 trials.
    assert lines[1].split() == ["netB", "89.50", "97.04", "4.9051", "0.4812", "0.6120", "-", "128", "9.63M",
                                "4/6", "-"]
    assert lines[2].split() == ["ivector", "-", "-", "8.8000", "0.6100", "-", "-", "-", "-", "-", "37611/37720"]
    with pytest.raises(ValueError, match="7 trials counted but only 6 listed"):
        results.record(exp, "other", trials_counted=7, trials_listed=6)
    with pytest.raises(ValueError, match="must be a count"):
        results.record(exp, "other", utts_counted=2.5)


def test_rows_are_per_system_and_trial_list_and_new_fields_are_kept(tmp_path):
    """Several trial lists of one system are rows of their own; a field results.py does not know (a
    new metric) is kept and shown, after the known figures."""
    results.record(tmp_path, "cnn_b_joint", top1=80.0, top5=90.0)
    results.record(tmp_path, "cnn_b_joint", trial_list="vox1_O", eer=4.9, cllr=0.25, trials_counted=3, trials_listed=3)
    results.record(tmp_path, "cnn_b_joint", trial_list="vox1_E", eer=5.5, act_dcf_0_01=0.5)
    rows = results.load(tmp_path)
    assert list(rows) == ["cnn_b_joint", "cnn_b_joint:vox1_O", "cnn_b_joint:vox1_E"]
    assert rows["cnn_b_joint:vox1_O"] == {"system": "cnn_b_joint", "trial_list": "vox1_O", "eer": 4.9,
                                          "cllr": 0.25, "trials_counted": 3, "trials_listed": 3}
    assert rows["cnn_b_joint:vox1_E"]["act_dcf_0.01"] == 0.5
    lines = [line.split() for line in (tmp_path / "RESULTS").read_text().splitlines()]
    assert lines[0] == ["system", "trials-list", "top-1%", "top-5%", "EER%", "minDCF0.01", "minDCF0.001",
                        "minDCF0.05", "cllr", "act_dcf_0.01", "dim", "params", "utts", "trials"]
    assert lines[1][:4] == ["cnn_b_joint", "-", "80.00", "90.00"]
    assert lines[2] == ["cnn_b_joint", "vox1_O", "-", "-", "4.9000", "-", "-", "-", "0.2500", "-", "-", "-",
                        "-", "3/3"]
    assert lines[3][:2] == ["cnn_b_joint", "vox1_E"] and lines[3][9] == "0.5000"
    with pytest.raises(ValueError, match="trial list name must be one non-empty word"):
        results.record(tmp_path, "x", trial_list="vox1 O", eer=1.0)


def _record_many(exp, system, field):
    for i in range(25):
        results.record(exp, system, **{field: float(i)})


def test_concurrent_records_lose_nothing(tmp_path):
    # Identification and verification of one system may record at the same time.
    ctx = multiprocessing.get_context("fork")
    jobs = [ctx.Process(target=_record_many, args=(tmp_path, s, f)) for s in ("a", "b") for f in ("top1", "eer")]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    assert results.load(tmp_path) == {s: {"system": s, "top1": 24.0, "eer": 24.0} for s in ("a", "b")}


def synthetic_vectors(ids, speaker_of, dim=16, noise=0.5, seed=0):
    """One vector per id: a random per-speaker mean plus per-utterance noise."""
    rng = np.random.default_rng(seed)
    means = {s: rng.normal(size=dim) for s in sorted(set(speaker_of.values()))}
    return {u: means[speaker_of[u]] + noise * rng.normal(size=dim) for u in ids}


def sh(*args):
    return subprocess.run(list(args), cwd=REPO, capture_output=True, text=True)


def test_score_metrics_results_steps_on_the_demo_trials(tmp_path):
    trials = read_trials(DEMO_TRIALS)
    ids = trials.ids()
    speaker_of = {u: u.split("-")[0] for u in ids}
    train_ids = [f"tr{s:03d}-u{i}" for s in range(60) for i in range(6)]
    speaker_of.update({u: u.split("-")[0] for u in train_ids})
    vectors = synthetic_vectors(ids + train_ids, speaker_of)
    xvec = tmp_path / "xvector.scp"
    with ArkScpWriter(tmp_path / "xvector.1.ark", xvec) as w:
        for u in sorted(vectors):
            w.write(u, vectors[u])
    train = tmp_path / "train"
    train.mkdir()
    (train / "utt2spk").write_text("".join(f"{u} {speaker_of[u]}\n" for u in sorted(train_ids)))
    exp = tmp_path / "exp"

    scores = tmp_path / "scores_plda"
    run = sh("steps/score.sh", "--backend", "plda", "--train-vectors", str(xvec), "--train-data", str(train),
             "--mean-norm", "true", "--lda-dim", "12", "--asnorm-top-n", "20", DEMO_TRIALS, str(xvec), str(scores))
    assert run.returncode == 0, run.stderr
    got, _ = read_scores(scores, trials)
    assert len(got) == len(trials)
    eer, _ = kaldi_eer(got, trials.target)
    assert eer < 0.05  # well-separated synthetic speakers

    run = sh("steps/compute_metrics.sh", "--exp-root", str(exp), "--system", "synthetic_plda", "--dim", "16",
             DEMO_TRIALS, str(scores))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    dcf_lines = [f"minDCF(p-target={p}): {min_dcf(got, trials.target, p)[0]:.4f}" for p in (0.01, 0.001, 0.05)]
    assert lines[:4] == [f"EER: {100 * eer:.4f}%", *dcf_lines]  # then the calibration figures

    # "Score another system's file": any order, same figures; drawn on the same DET plot.
    other = tmp_path / "other_system_scores"
    rows = scores.read_text().splitlines()
    other.write_text("\n".join(reversed(rows)) + "\n")
    run = sh("steps/compute_metrics.sh", "--exp-root", str(exp), "--system", "other", DEMO_TRIALS, str(other))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == lines[0]

    run = sh("steps/show_results.sh", str(exp))
    assert run.returncode == 0, run.stderr
    assert [line.split()[0] for line in run.stdout.splitlines()] == ["system", "synthetic_plda", "other"]
    assert (exp / "det.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "DET curves of synthetic_plda, other ->" in run.stderr

    # Bad input fails loudly, naming the file.
    (tmp_path / "short").write_text("\n".join(rows[:-1]) + "\n")
    run = sh("steps/compute_metrics.sh", DEMO_TRIALS, str(tmp_path / "short"))
    assert run.returncode != 0 and f"scores {len(rows) - 1} of {len(rows)} trials" in run.stderr
    (tmp_path / "few.scp").write_text("".join(xvec.read_text().splitlines(keepends=True)[1:]))
    run = sh("steps/score.sh", DEMO_TRIALS, str(tmp_path / "few.scp"), str(tmp_path / "never"))
    assert run.returncode != 0 and "no vector for" in run.stderr and DEMO_TRIALS in run.stderr
    assert not (tmp_path / "never").exists()


def test_score_file_keyed_by_audio_paths_reads_as_the_ids(tmp_path):
    """Most toolkits write VoxCeleb scores with the trial list's audio paths as keys."""
    vox = write(tmp_path / "veri_test.txt", "1 id10270/x6uYqmx31kE/00001.wav id10270/8jEAjG6SegY/00008.wav\n"
                                            "0 id10270/x6uYqmx31kE/00001.wav id10300/ize_eiCFEg0/00003.wav\n")
    trials = read_trials(vox)
    by_path = write(tmp_path / "scores", "id10270/x6uYqmx31kE/00001.wav id10300/ize_eiCFEg0/00003.wav -1.5\n"
                                         "id10270/x6uYqmx31kE/00001.wav id10270/8jEAjG6SegY/00008.wav 2.25\n")
    scores, order = read_scores(by_path, trials)
    assert scores.tolist() == [2.25, -1.5] and order.tolist() == [1, 0]
    twice = write(tmp_path / "twice", "id10270-x6uYqmx31kE-00001 id10270-8jEAjG6SegY-00008 2\n"
                                      "id10270/x6uYqmx31kE/00001.wav id10270/8jEAjG6SegY/00008.wav 2\n")
    with pytest.raises(TrialsError, match=r"twice:2: trial .* scored twice"):
        read_scores(twice, trials)


def _score_main(*argv):
    """pyspk.bin.score's main in-process -> its error message (None on success)."""
    from pyspk.bin.score import main
    try:
        main([str(a) for a in argv])
    except SystemExit as e:
        return str(e.code)
    return None


def _write_vectors(path, vectors):
    with ArkScpWriter(str(path).replace(".scp", ".ark"), path) as w:
        for key in sorted(vectors):
            w.write(key, np.asarray(vectors[key], dtype=np.float32))
    return path


def test_a_trial_list_with_one_class_fails_before_scoring(tmp_path):
    # What is left of a list after the nontarget side's speakers had no usable audio.
    trials = write(tmp_path / "trials", "a b target\nc d target\n")
    scp = _write_vectors(tmp_path / "x.scp", {k: np.ones(4) for k in "abcd"})
    error = _score_main(trials, scp, tmp_path / "scores")
    assert error == f"score: {trials}: all 2 trials are target trials; EER and minDCF need both classes " \
                    "(were the utterances of some speakers skipped?)"
    assert not (tmp_path / "scores").exists()


def test_train_and_test_vectors_of_different_dimension_name_both_files(tmp_path):
    trials = write(tmp_path / "trials", "a b target\na c nontarget\n")
    test_scp = _write_vectors(tmp_path / "test.scp", {k: np.arange(4.0) + i for i, k in enumerate("abc")})
    rng = np.random.default_rng(0)
    train_scp = _write_vectors(tmp_path / "train.scp", {f"t{i}": rng.normal(size=6) for i in range(8)})
    error = _score_main("--train-vectors", train_scp, trials, test_scp, tmp_path / "scores")
    assert error == f"score: {test_scp} are 4-dimensional but {train_scp} are 6-dimensional: they must come " \
                    "from one model"


def test_a_verification_row_says_how_many_listed_trials_it_scored(tmp_path):
    """The GMM-UBM case: scored on the trials whose utterances had voiced frames, 4 of the 6 listed."""
    from pyspk.bin.compute_metrics import main as compute_metrics
    listed = write(tmp_path / "trials_listed", "a b target\na c nontarget\nb c nontarget\n"
                                               "d e target\nd f nontarget\ne f nontarget\n")
    scored = write(tmp_path / "trials_scored", "a b target\na c nontarget\nb c nontarget\nd f nontarget\n")
    scores = write(tmp_path / "scores", "a b 2.0\na c -1.0\nb c 0.5\nd f -2.0\n")
    exp = tmp_path / "exp"
    compute_metrics(["--exp-root", str(exp), "--system", "gmm_ubm", "--listed-trials", listed,
                     "--corpus", "egs/demo/corpus", "--bootstrap-draws", "0", scored, scores])
    row = results.load(exp)["gmm_ubm"]
    assert (row["trials_counted"], row["trials_listed"], row["corpus"]) == (4, 6, "egs/demo/corpus")
    assert (exp / "RESULTS").read_text().splitlines()[1].split()[-1] == "4/6"
    many = write(tmp_path / "many", "".join(f"x{i} y{i} nontarget\n" for i in range(5)) + open(listed).read())
    with pytest.raises(ValueError, match=r"many: only 4 of 11 trials could be scored"):
        compute_metrics(["--listed-trials", many, "--bootstrap-draws", "0", scored, scores])


def test_gmm_ubm_scoring_of_a_one_class_list_fails_before_scoring(tmp_path):
    from pyspk.backend.gmm import DiagGmm
    from pyspk.bin import score_gmm_ubm
    DiagGmm(np.ones(2) / 2, np.zeros((2, 39)), np.ones((2, 39))).save(tmp_path / "ubm")
    trials = write(tmp_path / "trials", "a b nontarget\nc d nontarget\n")
    with pytest.raises(TrialsError, match=r"trials: all 2 trials are nontarget trials"):
        score_gmm_ubm.main([str(tmp_path / "ubm"), str(tmp_path / "no_data_read"), trials, str(tmp_path / "scores")])
    assert not (tmp_path / "scores").exists()
