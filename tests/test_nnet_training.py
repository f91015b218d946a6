"""Training, resume, identification and embeddings of the VGG networks on real demo speech.

The session fixture computes log spectrograms (pyspk.features.spectrogram) of 8 demo-corpus speakers
into identification train / validation / test data dirs. Networks are narrow (width 1/8 or 1/16) and
crops short (101 frames) so that the whole file runs in about a minute on 2 CPU cores.
"""
import logging
import os
import subprocess

import kaldi_native_io
import kaldiio
import numpy as np
import pytest
import torch

from conftest import ROOT, utt_id
from pyspk.features.spectrogram import log_spectrogram
from pyspk.io.audio import load_audio
from pyspk.io.datadir import DataDir
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import read_table, write_table
from pyspk.nnet.checkpoint import CheckpointError, load_checkpoint, load_model_and_head
from pyspk.nnet.data import EpochBatchSampler, FeatureError, TrainCrops, length_batches
from pyspk.nnet.identify import identification_accuracy
from pyspk.nnet.noise import NoiseInjector, mix_at_snr
from pyspk.nnet.train import Trainer
from pyspk.nnet.train_options import TrainOptions

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
            utt = utt_id(path)
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


def train(opts, demo, exp_dir):
    return Trainer(opts, demo["train"], demo["valid"], str(exp_dir)).run()


def log_lines(caplog):
    return [r.getMessage() for r in caplog.records]


def test_narrow_network_learns_speakers(demo, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    opts = options(width=0.125, ndims=32, epochs=30, batch_size=12, crop_frames=201, learning_rate=0.01,
                   noise_prob=0.0, center_loss_weight=0)
    train(opts, demo, tmp_path)
    # The last epoch, not final.pt: the best-by-validation pick on 8 utterances is a coin toss between
    # early epochs. So the validation utterances are held out too: 24 utterances never trained on.
    model, head, speakers = load_model_and_head(str(tmp_path / "last.pt"))
    correct = total = 0
    for split in ("test", "valid"):
        utt2spk = DataDir(demo[split]).utt2spk
        top, n = identification_accuracy(model, head, demo[split], utt2spk, speakers, torch.device("cpu"))
        correct, total = correct + round(top[1] * n / 100), total + n
    # 8 speakers: chance is 12.5 % top-1; >= 8 of 24 right by chance has p < 0.007
    assert total == 24 and correct >= 8, f"top-1 {correct} of {total}\n" + "\n".join(log_lines(caplog))


def test_resume_equals_uninterrupted_run(demo, tmp_path, caplog):
    straight = options(epochs=2, center_loss_weight=5)
    train(straight, demo, tmp_path / "straight")
    train(options(epochs=1, center_loss_weight=5), demo, tmp_path / "resumed")
    caplog.set_level(logging.INFO)
    train(options(epochs=2, center_loss_weight=5, resume=True, num_workers=2), demo, tmp_path / "resumed")
    assert any(line.startswith("resumed from") for line in log_lines(caplog))
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
    with pytest.raises(CheckpointError, match="final.pt: not a pyspk checkpoint"):
        load_model_and_head(str(path))
    torch.save({"model": {}}, path)
    with pytest.raises(CheckpointError, match="not a pyspk checkpoint"):
        load_model_and_head(str(path))


def test_unknown_config_key_is_a_clear_error(tmp_path, capsys):
    from pyspk.bin.train_cnn import main
    conf = tmp_path / "x.conf"
    conf.write_text("--width=0.5\n--no-such-key=3\n")
    with pytest.raises(SystemExit):
        main(["--config", str(conf), "a", "b", "c"])
    assert f"{conf}:2: unknown option --no-such-key" in capsys.readouterr().err


def test_options_beyond_the_paper_train_and_average(demo, tmp_path, caplog):
    """AAM-softmax head + center loss with warm-up, SpecAugment, cosine schedule with warm-up, weight
    decay and averaging of the last 2 epochs: final.pt is the mean of the saved epochs, validated."""
    caplog.set_level(logging.INFO)
    opts = options(epochs=3, loss="aam_softmax", margin=0.2, scale=30.0, center_loss_weight=1.0,
                   center_loss_warmup_epochs=1, spec_augment=True, lr_schedule="cosine", warmup_epochs=0.5,
                   min_learning_rate=0.0003, weight_decay=1e-4, average_last=2)
    accuracy, what = train(opts, demo, tmp_path)
    assert what == "average of epochs 2-3"
    assert not (tmp_path / "epoch_1.pt").exists()
    epochs = [load_checkpoint(str(tmp_path / f"epoch_{e}.pt")) for e in (2, 3)]
    final = load_checkpoint(str(tmp_path / "final.pt"))
    assert final["averaged_epochs"] == [2, 3]
    for part in ("model", "loss"):
        for key, value in final[part].items():
            if value.is_floating_point():
                torch.testing.assert_close(value, (epochs[0][part][key] + epochs[1][part][key]) / 2)
    assert not torch.equal(epochs[0]["model"]["bottleneck.weight"], epochs[1]["model"]["bottleneck.weight"])
    last = load_checkpoint(str(tmp_path / "last.pt"))
    group = last["optimizer"]["param_groups"][0]
    assert group["weight_decay"] == 1e-4
    assert group["lr"] == pytest.approx(0.0003, rel=0.05)  # the cosine's floor at the last step
    assert set(final["loss"]) == {"head.weight", "center.centers"}
    model, head, speakers = load_model_and_head(str(tmp_path / "final.pt"))
    top, n = identification_accuracy(model, head, demo["valid"], DataDir(demo["valid"]).utt2spk, speakers,
                                     torch.device("cpu"), ks=(1,))
    assert n == 8 and top[1] == pytest.approx(accuracy)
    assert any(line.startswith(f"final.pt = average of epochs 2-3: validation top-1 {accuracy:.2f}%")
               for line in log_lines(caplog))


def test_resume_applies_a_new_learning_rate_and_refuses_a_new_loss(demo, tmp_path, caplog):
    train(options(epochs=1, center_loss_weight=5), demo, tmp_path)
    with pytest.raises(CheckpointError, match=r"last.pt: cannot resume with changed options "
                                              r"\(--center-loss-weight was 5, now 0\)"):
        train(options(epochs=2, center_loss_weight=0, resume=True), demo, tmp_path)
    with pytest.raises(CheckpointError, match=r"--loss was 'softmax', now 'am_softmax'"):
        train(options(epochs=2, center_loss_weight=5, loss="am_softmax", resume=True), demo, tmp_path)
    caplog.set_level(logging.INFO)
    train(options(epochs=2, center_loss_weight=5, learning_rate=0.001, resume=True), demo, tmp_path)
    last = load_checkpoint(str(tmp_path / "last.pt"))
    assert last["epoch"] == 2
    assert last["optimizer"]["param_groups"][0]["lr"] == 0.001
    assert last["options"]["learning_rate"] == 0.001
    assert last["resumes"] == [{"epoch": 1, "changed": {"learning_rate": [0.003, 0.001], "epochs": [1, 2]}}]
    assert "resume: --learning-rate changed from 0.003 to 0.001: applies from now on" in log_lines(caplog)


def test_empty_validation_and_one_speaker_fail_before_training(demo, tmp_path):
    empty = tmp_path / "empty"
    write_data_dir(str(empty), {})
    with pytest.raises(ValueError, match=f"{empty}: no validation utterances"):
        train(options(), {"train": demo["train"], "valid": str(empty)}, tmp_path / "a")
    one = tmp_path / "one"
    scp = dict(read_table(f"{demo['train']}/feats.scp", 2, 2))
    frames = dict(read_table(f"{demo['train']}/utt2num_frames", 2, 2))
    write_data_dir(str(one), {u: (int(frames[u]), scp[u]) for u in scp if u.startswith("so0001")})
    valid = tmp_path / "valid_one"
    write_data_dir(str(valid), {u: (int(frames[u]), scp[u]) for u in list(scp)[:1]})
    with pytest.raises(ValueError, match="1 training speaker"):
        train(options(), {"train": str(one), "valid": str(valid)}, tmp_path / "b")
    assert not (tmp_path / "b" / "spk2label").exists()


def _ddp_worker(rank, demo, exp, port):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    trainer = Trainer(options(epochs=1, center_loss_weight=5, batch_size=8), demo["train"], demo["valid"], exp)
    trainer.sampler.n_items = 16  # 2 steps of the global batch of 8
    trainer.run()
    torch.save({"model": trainer.model.state_dict(), "loss": trainer.objective.state_dict(),
                "optimizer": trainer.optimizer.state_dict()["state"]}, f"{exp}/rank{rank}.pt")


def test_ddp_on_cpu_keeps_every_rank_identical(demo, tmp_path):
    """Two gloo processes, two steps: weights, BatchNorm statistics, centres and Adam state agree
    bit for bit across the ranks (centres all-reduced, gradients averaged by DDP)."""
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.start_processes(_ddp_worker, args=(demo, str(tmp_path), port), nprocs=2, start_method="fork")
    a, b = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for part in ("model", "loss"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), key
    assert a["loss"]["center.centers"].abs().sum() > 0
    assert len(a["optimizer"]) > 0
    for index in a["optimizer"]:
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(a["optimizer"][index][key], b["optimizer"][index][key])
    assert load_checkpoint(str(tmp_path / "last.pt"))["step"] == 2
