"""Identification commands: the SVM systems on i-vectors (plain and PLDA-projected), and what every
identification figure counted: utterances scored / listed, failing above the feature steps' fail fraction."""
import json

import numpy as np
import pytest
import torch

from pyspk.bin import identify_cnn, identify_svm
from pyspk.io.kaldi_table import ArkScpWriter


def ivector_dir(path, vectors, speakers, name="ivector"):
    """An extract_ivectors.sh-like dir: <name>.scp for ``vectors`` ({utt: (dim,)}), utt2spk for
    ``speakers`` (name "xvector": as steps/extract_embeddings.sh writes CNN embeddings)."""
    path.mkdir()
    with ArkScpWriter(path / f"{name}.1.ark", path / f"{name}.scp") as w:
        for utt in sorted(vectors):
            w.write(utt, np.asarray(vectors[utt], dtype=np.float32))
    (path / "utt2spk").write_text("".join(f"{u} {speakers[u]}\n" for u in sorted(speakers)))
    return str(path)


@pytest.fixture(scope="module")
def ivectors(tmp_path_factory):
    """i-vector-like data: 12 speakers, 40-dim, speaker means in 10 dims buried under a strong
    within-speaker (channel) nuisance in others; train/val/test dirs of 8/3/4 utterances per speaker."""
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("ivectors")
    means = rng.normal(size=(12, 40)) * np.r_[np.ones(10), np.full(30, 0.1)]
    channel = rng.normal(size=(4, 40)) * 2.0
    dirs = {}
    for name, n in (("train", 8), ("val", 3), ("test", 4)):
        vectors, speakers = {}, {}
        for s in range(12):
            for i in range(n):
                utt = f"spk{s:02d}-{name}{i}"
                vectors[utt] = means[s] + channel.T @ rng.normal(size=4) + 0.3 * rng.normal(size=40)
                speakers[utt] = f"spk{s:02d}"
        dirs[name] = (vectors, speakers)
    return root, dirs


def test_svm_and_plda_svm_record_their_rows(ivectors, tmp_path):
    root, dirs = ivectors
    paths = [ivector_dir(tmp_path / k, *dirs[k]) for k in ("train", "val", "test")]
    exp = tmp_path / "exp"
    identify_svm.main(["--exp-root", str(exp), "--system", "ivector_svm", "--corpus", "synthetic", *paths])
    identify_svm.main(["--exp-root", str(exp), "--system", "ivector_plda_svm", "--projection", "plda",
                       "--lda-dim", "11", "--config-used", "conf/plda.conf", *paths])
    rows = json.loads((exp / "RESULTS.json").read_text())
    plain, plda = rows["ivector_svm"], rows["ivector_plda_svm"]
    assert plain["dim"] == 40 and plda["dim"] == 11  # the SVM saw the LDA + PLDA-projected vectors
    assert (plain["utts_counted"], plain["utts_listed"]) == (48, 48)
    assert plain["corpus"] == "synthetic" and plda["config"] == "conf/plda.conf"
    assert plain["top1"] >= 90.0 and plda["top1"] >= 90.0, (plain, plda)   # 12 well-separated speakers
    assert plain["top1"] <= plain["top5"] and plda["top1"] <= plda["top5"]


def test_svm_reads_the_vectors_it_is_told_to(ivectors, tmp_path):
    """--vectors xvector.scp: the same SVM on CNN-embedding dirs; without it, the missing
    ivector.scp is named."""
    root, dirs = ivectors
    paths = [ivector_dir(tmp_path / k, *dirs[k], name="xvector") for k in ("train", "val", "test")]
    exp = tmp_path / "exp"
    identify_svm.main(["--exp-root", str(exp), "--system", "cnn_b_joint_svm", "--vectors", "xvector.scp", *paths])
    row = json.loads((exp / "RESULTS.json").read_text())["cnn_b_joint_svm"]
    assert row["dim"] == 40 and (row["utts_counted"], row["utts_listed"]) == (48, 48)
    assert row["top1"] >= 90.0, row
    with pytest.raises(Exception, match=rf"{paths[0]}/ivector.scp"):
        identify_svm.main(paths)


def test_svm_identification_counts_and_fails_on_a_silent_subset(ivectors, tmp_path):
    """Utterances of the test list without an i-vector: counted as left out; above half, an error."""
    root, dirs = ivectors
    train, val = (ivector_dir(tmp_path / k, *dirs[k]) for k in ("train", "val"))
    vectors, speakers = dirs["test"]
    kept = {u: v for i, (u, v) in enumerate(sorted(vectors.items())) if i % 4 != 0}   # 36 of 48
    exp = tmp_path / "exp"
    identify_svm.main(["--exp-root", str(exp), "--system", "s", train, val,
                       ivector_dir(tmp_path / "test", kept, speakers)])
    row = json.loads((exp / "RESULTS.json").read_text())["s"]
    assert (row["utts_counted"], row["utts_listed"]) == (36, 48)
    few = {u: v for i, (u, v) in enumerate(sorted(vectors.items())) if i % 4 == 0}     # 12 of 48
    with pytest.raises(ValueError, match=r"test2/utt2spk: only 12 of 48 utterances could be scored: "
                                         r"more than --max-bad-fraction=0.5 left out"):
        identify_svm.main([train, val, ivector_dir(tmp_path / "test2", few, speakers)])


class FakeNetwork(torch.nn.Linear):
    ndims = 8


def test_cnn_identification_counts_what_it_scored(tmp_path, monkeypatch):
    """4 of 6 listed utterances scored (2 unreadable): recorded as 4/6; 2 of 6: an error, no row."""
    data = tmp_path / "iden_test"
    data.mkdir()
    (data / "utt2spk").write_text("".join(f"u{i} spk{i % 2}\n" for i in range(6)))
    scored = {"n": 4}
    monkeypatch.setattr(identify_cnn, "load_model_and_head",
                        lambda path, device: (FakeNetwork(4, 8), torch.nn.Linear(8, 2), ["spk0", "spk1"]))
    monkeypatch.setattr(identify_cnn, "identification_accuracy",
                        lambda *args, **kwargs: ({1: 25.0, 5: 100.0}, scored["n"]))
    exp = tmp_path / "exp"
    args = ["--exp-root", str(exp), "--system", "cnn_b_joint", "--device", "cpu", "final.pt", str(data)]
    identify_cnn.main(args)
    row = json.loads((exp / "RESULTS.json").read_text())["cnn_b_joint"]
    assert (row["top1"], row["utts_counted"], row["utts_listed"]) == (25.0, 4, 6)
    scored["n"] = 2
    (exp / "RESULTS.json").unlink()
    with pytest.raises(ValueError, match=r"only 2 of 6 utterances could be scored"):
        identify_cnn.main(args)
    assert not (exp / "RESULTS.json").exists()


def test_svm_dirs_of_different_dimension_name_both(ivectors, tmp_path):
    root, dirs = ivectors
    train, val = (ivector_dir(tmp_path / k, *dirs[k]) for k in ("train", "val"))
    vectors, speakers = dirs["test"]
    short = ivector_dir(tmp_path / "test", {u: v[:30] for u, v in vectors.items()}, speakers)
    with pytest.raises(ValueError, match=rf"{short}/ivector.scp has 30-dimensional vectors but "
                                         rf"{train}/ivector.scp 40-dimensional"):
        identify_svm.main([train, val, short])
