"""Training, resume, identification and embeddings of the VGG networks on real demo speech.

The session fixture computes log spectrograms (pyspk.features.spectrogram) of 8 demo-corpus speakers
into identification train / validation / test data dirs. Networks are narrow (width 1/8 or 1/16) and
crops short (101 frames) so that the whole file runs in about a minute on 2 CPU cores.
"""
import os
import subprocess

import kaldi_native_io
import kaldiio
import numpy as np
import pytest
import torch

from pyspk.features.spectrogram import log_spectrogram
from pyspk.io.audio import load_audio
from pyspk.io.datadir import DataDir
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import read_table, write_table
from pyspk.nnet.checkpoint import CheckpointError, load_checkpoint
from pyspk.nnet.data import EpochBatchSampler, FeatureError, TrainCrops, length_batches
from pyspk.nnet.extract import load_model
from pyspk.nnet.identify import identification_accuracy
from pyspk.nnet.noise import NoiseInjector, mix_at_snr
from pyspk.nnet.train import Trainer, TrainOptions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "egs", "demo", "corpus")
SPEAKERS = ["so0001", "so0036", "so0075", "so0482", "so1012", "so1092", "so2036", "so3002"]
SPLITS = {"1": "train", "2": "valid", "3": "test"}


def write_data_dir(path, utt2frames_scp):
    """A minimal spectrogram data dir: utt2spk, spk2utt, feats.scp, utt2num_frames."""
    os.makedirs(path, exist_ok=True)
    utts = sorted(utt2frames_scp)
    write_table(f"{path}/utt2spk", [[u, u.split("-")[0]] for u in utts])
    spk2utt = {}
    for u in utts:
        spk2utt.setdefault(u.split("-")[0], []).append(u)
    write_table(f"{path}/spk2utt", [[s, *us] for s, us in spk2utt.items()])
    write_table(f"{path}/feats.scp", [[u, utt2frames_scp[u][1]] for u in utts])
    write_table(f"{path}/utt2num_frames", [[u, str(utt2frames_scp[u][0])] for u in utts])


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """{'train'|'valid'|'test': data dir} of 8 speakers (9 / 1 / 2 utterances each)."""
    if not os.path.isdir(CORPUS):
        pytest.skip(f"no demo corpus at {CORPUS}")
    root = tmp_path_factory.mktemp("nnet_demo")
    rows = [line.split() for line in open(f"{CORPUS}/iden_split.txt")]
    rows = [(s, p) for s, p in rows if p.split("/")[0] in SPEAKERS]
    parts = {name: {} for name in SPLITS.values()}
    ark = str(root / "spec.ark")
    with ArkScpWriter(ark, str(root / "spec.scp")) as writer:
        for split, path in rows:
            utt = path[:-len(".flac")].replace("/", "-")
            feats = log_spectrogram(load_audio(f"{CORPUS}/wav/{path}")[0])
            writer.write(utt, feats)
            parts[SPLITS[split]][utt] = feats.shape[0]
    scp = dict(read_table(str(root / "spec.scp"), 2, 2))
    dirs = {}
    for name, utts in parts.items():
        dirs[name] = str(root / name)
        write_data_dir(dirs[name], {u: (n, scp[u]) for u, n in utts.items()})
    return dirs


def options(**changes):
    base = dict(width=0.0625, ndims=16, epochs=2, batch_size=8, crop_frames=101, short_utterances="pad",
                noise_prob=0.5, num_workers=0, log_every=1000, learning_rate=0.003, device="cpu")
    base.update(changes)
    return TrainOptions(**base)


def train(opts, demo, exp_dir, log=lambda message: None):
    return Trainer(opts, demo["train"], demo["valid"], str(exp_dir), log).run()


def test_narrow_network_learns_speakers(demo, tmp_path):
    lines = []
    opts = options(width=0.125, ndims=32, epochs=30, batch_size=12, crop_frames=201, learning_rate=0.01,
                   noise_prob=0.0, center_loss_weight=0)
    train(opts, demo, tmp_path, lines.append)
    # The last epoch, not final.pt: the best-by-validation pick on 8 utterances is a coin toss between
    # early epochs. So the validation utterances are held out too: 24 utterances never trained on.
    model, state = load_model(str(tmp_path / "last.pt"), torch.device("cpu"))
    correct = total = 0
    for split in ("test", "valid"):
        utt2spk = DataDir(demo[split]).utt2spk
        top, n = identification_accuracy(model, demo[split], utt2spk, state["speakers"], torch.device("cpu"))
        correct, total = correct + round(top[1] * n / 100), total + n
    # 8 speakers: chance is 12.5 % top-1; >= 8 of 24 right by chance has p < 0.007
    assert total == 24 and correct >= 8, f"top-1 {correct} of {total}\n" + "\n".join(lines)


def test_resume_equals_uninterrupted_run(demo, tmp_path):
    straight = options(epochs=2, center_loss_weight=5)
    train(straight, demo, tmp_path / "straight")
    train(options(epochs=1, center_loss_weight=5), demo, tmp_path / "resumed")
    lines = []
    train(options(epochs=2, center_loss_weight=5, resume=True, num_workers=2), demo, tmp_path / "resumed",
          lines.append)
    assert any(line.startswith("resumed from") for line in lines)
    a, b = (load_checkpoint(str(tmp_path / d / "last.pt")) for d in ("straight", "resumed"))
    assert a["epoch"] == b["epoch"] == 2 and a["step"] == b["step"]
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert torch.equal(a["loss"]["center.centers"], b["loss"]["center.centers"])
    assert a["loss"]["center.centers"].abs().sum() > 0
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        assert torch.equal(sa["exp_avg"], sb["exp_avg"])


def test_training_crops_are_reproducible_and_normalised(demo):
    labels = {u: 0 for u in read_table(f"{demo['train']}/feats.scp", 2, 2)[0][:1]}
    crops = TrainCrops(demo["train"], labels, 101, NoiseInjector(1.0), seed=3, short="pad")
    x1, _ = crops[(0, 0, 5)]
    x2, _ = crops[(0, 0, 5)]
    x3, _ = crops[(0, 1, 5)]
    assert x1.shape == (1, 161, 101) and torch.equal(x1, x2) and not torch.equal(x1, x3)
    np.testing.assert_allclose(x1[0].mean(dim=1).numpy(), 0, atol=1e-4)


def test_batches_cover_epoch_once_and_split_over_ranks():
    whole = [item for batch in EpochBatchSampler(20, 8, seed=1) for item in batch]
    assert len(whole) == 16 and len({i for i, _, _ in whole}) == 16
    ranks = [list(EpochBatchSampler(20, 8, seed=1, rank=r, world_size=2)) for r in (0, 1)]
    merged = sorted(item for r in ranks for batch in r for item in batch)
    assert merged == sorted(whole) and all(len(b) == 4 for b in ranks[0])


def test_noise_is_mixed_at_the_drawn_snr():
    rng = np.random.default_rng(0)
    speech = rng.normal(size=(50, 161)).astype(np.float32)
    noise = rng.exponential(size=(50, 161))
    noisy = mix_at_snr(speech, noise, 10.0)
    added = np.exp(noisy.astype(np.float64)) - np.exp(speech.astype(np.float64))
    snr = 10 * np.log10(np.exp(speech.astype(np.float64)).sum() / added.sum())
    assert snr == pytest.approx(10.0, abs=1e-3)


def test_length_batches_bound_padded_frames():
    lengths = [300, 120, 310, 100, 1000, 305]
    batches = length_batches(lengths, 700)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert batches[0] == [4]  # longer than the budget: alone
    assert all(max(lengths[i] for i in b) * len(b) <= 700 for b in batches if len(b) > 1)


def read_embeddings(scp):
    return {k: np.asarray(v) for k, v in kaldiio.load_scp(scp).items()}


def test_steps_train_extract_identify(demo, tmp_path):
    """The step scripts end to end: train, embed (batches of different sizes agree), identify."""
    exp = tmp_path / "exp" / "cnn"

    def run(*args):
        out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        return out.stdout

    conf = tmp_path / "tiny.conf"
    conf.write_text("--width=0.0625\n--ndims=16\n--batch-size=8\n--crop-frames=101\n--num-workers=0\n"
                    "--short-utterances=pad\n")
    run("steps/train_cnn.sh", "--config", str(conf), "--epochs", "1", "--center-loss-weight", "5",
        demo["train"], demo["valid"], str(exp))
    for name in ("final.pt", "last.pt", "config", "spk2label", "log/train.log"):
        assert (exp / name).is_file(), name
    assert "--center-loss-weight=5.0" in (exp / "config").read_text()
    assert len((exp / "spk2label").read_text().splitlines()) == 8

    out = run("steps/extract_embeddings.sh", "--nj", "2", "--max-frames", "3000", str(exp), demo["test"],
              str(tmp_path / "xv"))
    assert "16 embeddings" in out
    vectors = read_embeddings(str(tmp_path / "xv" / "xvector.scp"))
    assert len(vectors) == 16 and all(v.shape == (16,) and v.dtype == np.float32 for v in vectors.values())
    reader = kaldi_native_io.RandomAccessFloatVectorReader(f"scp:{tmp_path / 'xv' / 'xvector.scp'}")
    for utt, v in vectors.items():
        np.testing.assert_array_equal(np.asarray(reader[utt]), v)
    # one utterance per batch: the same embeddings
    run("python", "-m", "pyspk.bin.extract_embeddings", "--max-frames=1", "--job=9", str(exp / "final.pt"),
        demo["test"], str(tmp_path / "xv1"))
    alone = read_embeddings(str(tmp_path / "xv1" / "xvector.9.scp"))
    for utt, v in vectors.items():
        np.testing.assert_allclose(alone[utt], v, rtol=1e-4, atol=1e-5)
    means = read_embeddings(str(tmp_path / "xv" / "spk_xvector.scp"))
    assert sorted(means) == SPEAKERS
    np.testing.assert_allclose(means["so0001"], np.mean([v for u, v in vectors.items() if u.startswith("so0001")],
                                                        axis=0), rtol=1e-6)

    out = run("steps/identify_cnn.sh", "--exp-root", str(tmp_path / "exp"), "--system", "tiny", str(exp),
              demo["test"])
    assert "top-1: " in out and "top-5: " in out
    assert "tiny" in (tmp_path / "exp" / "RESULTS").read_text()


def test_missing_features_are_a_clear_error(demo, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("utt2spk", "spk2utt", "utt2num_frames"):
        (bad / name).write_text(open(f"{demo['train']}/{name}").read())
    lines = open(f"{demo['train']}/feats.scp").read().splitlines()
    (bad / "feats.scp").write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(FeatureError, match=r"feats.scp: no features for 1 utterance\(s\).*so0001-s0-000010011"):
        train(options(), {"train": str(bad), "valid": demo["valid"]}, tmp_path / "exp")


def test_utterance_shorter_than_the_crop_is_a_clear_error(demo, tmp_path):
    with pytest.raises(FeatureError, match=r"shorter than the 301-frame crop, e\.g\. \S+ \(\d+ frames\)"):
        train(options(crop_frames=301, short_utterances="error"), demo, tmp_path)


def test_corrupt_checkpoint_is_a_clear_error(demo, tmp_path):
    path = tmp_path / "final.pt"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="final.pt: corrupt or not a pyspk checkpoint"):
        load_model(str(path), torch.device("cpu"))
    torch.save({"model": {}}, path)
    with pytest.raises(CheckpointError, match="not a pyspk checkpoint"):
        load_model(str(path), torch.device("cpu"))


def test_unknown_config_key_is_a_clear_error(tmp_path, capsys):
    from pyspk.bin.train_cnn import main
    conf = tmp_path / "x.conf"
    conf.write_text("--width=0.5\n--no-such-key=3\n")
    with pytest.raises(SystemExit):
        main(["--config", str(conf), "a", "b", "c"])
    assert f"{conf}:2: unknown option --no-such-key" in capsys.readouterr().err
