"""Training options through the public API (pyspk.nnet.train.Trainer) on real demo spectrograms:
--short-utterances skip, --noise-data, final.pt as the best validation epoch, and resume refusing another
architecture. Tiny networks and data (4 speakers), a few seconds each."""
import logging
import re

import numpy as np
import pytest
import torch

from conftest import DEMO_CORPUS, DEMO_WAV, utt_id
from pyspk.features.spectrogram import log_spectrogram
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import read_map, read_table, write_map
from pyspk.nnet.checkpoint import CheckpointError, load_checkpoint
from pyspk.nnet.data import FeatureError
from pyspk.nnet.train import Trainer
from pyspk.nnet.train_options import TrainOptions

SPEAKERS = ["so0001", "so0036", "so0075", "so0482"]


def write_spec_dir(path, feats):
    """A spectrogram data dir of ``feats`` (utt -> (frames, 161)): feats.scp, utt2num_frames, utt2spk, spk2utt."""
    path.mkdir()
    with ArkScpWriter(str(path / "spec.ark"), str(path / "feats.scp")) as writer:
        for utt in sorted(feats):
            writer.write(utt, feats[utt])
    write_map(path / "utt2num_frames", {u: str(f.shape[0]) for u, f in feats.items()})
    write_map(path / "utt2spk", {u: u.split("-")[0] for u in feats})
    spk2utt = {}
    for u in sorted(feats):
        spk2utt.setdefault(u.split("-")[0], []).append(u)
    write_map(path / "spk2utt", spk2utt)
    return str(path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """{'train': 3, 'valid': 1 utterance(s) of each of 4 speakers, 'noise': 2 utterances of another}."""
    root = tmp_path_factory.mktemp("train_options")
    split = {p: s for s, p in read_table(f"{DEMO_CORPUS}/iden_split.txt", 2, 2)}
    parts = {"train": {}, "valid": {}, "noise": {}}
    for path in sorted(split):
        spk = path.split("/")[0]
        part = ({"1": "train", "2": "valid"}.get(split[path]) if spk in SPEAKERS
                else "noise" if spk == "so1012" else None)
        if part and len([u for u in parts[part] if u.startswith(spk)]) < (3 if part == "train" else 1 if part == "valid" else 2):
            parts[part][utt_id(path)] = log_spectrogram(load_audio(f"{DEMO_WAV}/{path}")[0])
    return {name: write_spec_dir(root / name, feats) for name, feats in parts.items()}


def options(**changes):
    base = dict(width=0.0625, ndims=8, epochs=1, batch_size=4, crop_frames=101, short_utterances="pad",
                noise_prob=0.0, num_workers=0, log_every=1000, device="cpu", center_loss_weight=0)
    return TrainOptions(**{**base, **changes})


def test_short_utterances_skip_leaves_them_out_and_error_names_them(demo, tmp_path, caplog):
    frames = {u: int(n) for u, n in read_map(f"{demo['train']}/utt2num_frames").items()}
    crop = sorted(frames.values())[len(frames) // 2]            # half of the utterances are shorter
    short = sorted(u for u, n in frames.items() if n < crop)
    assert 0 < len(short) < len(frames)
    caplog.set_level(logging.INFO)
    trainer = Trainer(options(crop_frames=crop, short_utterances="skip"), demo["train"], demo["valid"], str(tmp_path))
    assert len(trainer.dataset) == len(frames) - len(short)
    assert sorted(u for u in short if any(f"{u}: {frames[u]} frames < crop {crop}: skipped" in m
                                          for m in caplog.messages)) == short
    with pytest.raises(FeatureError, match=f"{len(short)} utterance\\(s\\) shorter than the {crop}-frame crop.*"
                                           "--short-utterances=pad or skip"):
        Trainer(options(crop_frames=crop, short_utterances="error"), demo["train"], demo["valid"], str(tmp_path))


def test_noise_data_is_mixed_into_the_training_crops(demo, tmp_path):
    clean = Trainer(options(), demo["train"], demo["valid"], str(tmp_path / "clean")).dataset
    noisy = Trainer(options(noise_prob=1.0, snr_min=0.0, snr_max=0.0, noise_data=demo["noise"]),
                    demo["train"], demo["valid"], str(tmp_path / "noisy")).dataset
    white = Trainer(options(noise_prob=1.0, snr_min=0.0, snr_max=0.0), demo["train"], demo["valid"],
                    str(tmp_path / "white")).dataset
    item = (0, 0, 0)   # (utterance, epoch, position): the same crop of the same utterance
    (x_clean, y), (x_noisy, y_noisy), (x_white, _) = clean[item], noisy[item], white[item]
    assert y == y_noisy and x_clean.shape == x_noisy.shape == (1, 161, 101)
    # at 0 dB SNR the crop changes a lot, and differently from white noise
    assert torch.mean(torch.abs(x_noisy - x_clean)) > 0.1
    assert torch.mean(torch.abs(x_noisy - x_white)) > 0.1
    with pytest.raises(ValueError, match="nowhere/feats.scp"):
        Trainer(options(noise_prob=1.0, noise_data=str(tmp_path / "nowhere")), demo["train"], demo["valid"],
                str(tmp_path / "bad"))


def test_final_pt_is_the_best_validation_epoch(demo, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    Trainer(options(epochs=4, learning_rate=0.02, crop_frames=51), demo["train"], demo["valid"], str(tmp_path)).run()
    top1 = {int(m.group(1)): float(m.group(2)) for m in
            (re.match(r"epoch (\d+)/4: .* validation top-1 ([0-9.]+)%", line) for line in caplog.messages) if m}
    assert sorted(top1) == [1, 2, 3, 4]
    best = min(e for e in top1 if top1[e] == max(top1.values()))   # the first epoch reaching the maximum
    final, last = load_checkpoint(str(tmp_path / "final.pt")), load_checkpoint(str(tmp_path / "last.pt"))
    assert final["epoch"] == best and list(final["best"]) == [top1[best], best]
    assert last["epoch"] == 4
    same = all(np.array_equal(final["model"][k].numpy(), last["model"][k].numpy()) for k in final["model"])
    assert same == (best == 4)


def test_resume_with_another_architecture_is_refused(demo, tmp_path):
    Trainer(options(), demo["train"], demo["valid"], str(tmp_path)).run()
    before = (tmp_path / "last.pt").read_bytes()
    with pytest.raises(CheckpointError, match=f"{tmp_path}/last.pt: cannot resume with changed options "
                                              r"\(--network was 'B', now 'A'\)"):
        Trainer(options(network="A", resume=True), demo["train"], demo["valid"], str(tmp_path))
    assert (tmp_path / "last.pt").read_bytes() == before   # nothing overwritten
