"""Training crops from stored features (only the crop's rows read) and straight from audio (the
spectrogram computed by torch), on real demo-corpus utterances, against the whole-matrix reference."""
import os

import numpy as np
import pytest
import torch

from conftest import ROOT
from pyspk.features.spectrogram import log_spectrogram
from pyspk.features.torch_spectrogram import LogSpectrogram
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter, read_entry
from pyspk.io.tables import read_map
from pyspk.nnet import data as data_module
from pyspk.nnet.audio_crops import AudioCrops
from pyspk.nnet.data import FeatureError, TrainCrops, sample_rng
from pyspk.nnet.noise import NoiseInjector, NoiseSource

CORPUS = f"{ROOT}/egs/demo/corpus/wav"
UTTS = {"so0001-a": "so0001/s0/000010035.flac", "so0005-b": "so0005/s0/000050010.flac",
        "so0036-c": "so0036/s0/000360036.flac", "so1042-d": "so1042/s0/010420064.flac"}
CROP = 201


def make_data_dir(path, utts, compress=False):
    """A data dir of demo utterances with wav.scp, stored spectrograms (feats.scp) and utt2num_frames."""
    path.mkdir()
    specs = {u: log_spectrogram(load_audio(f"{CORPUS}/{p}")[0]) for u, p in utts.items()}
    with ArkScpWriter(str(path / "feats.ark"), str(path / "feats.scp"), compress=compress) as w:
        for u in sorted(specs):
            w.write(u, specs[u])
    (path / "wav.scp").write_text("".join(f"{u} {CORPUS}/{p}\n" for u, p in sorted(utts.items())))
    (path / "utt2spk").write_text("".join(f"{u} {u[:6]}\n" for u in sorted(utts)))
    (path / "utt2num_frames").write_text("".join(f"{u} {specs[u].shape[0]}\n" for u in sorted(specs)))
    return specs


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("crops")
    specs = make_data_dir(root / "train", UTTS)
    return str(root / "train"), specs


def whole_matrix_crop(scp_value, seed, item, crop=CROP):
    """The crop as the loader used to make it: the whole matrix read, cut, normalised in float64."""
    feats = read_entry(scp_value)
    if feats.shape[0] < crop:
        feats = np.resize(feats, (crop, feats.shape[1]))
    start = sample_rng(seed, item[1], item[2]).integers(feats.shape[0] - crop + 1)
    x = feats[start:start + crop].astype(np.float64)
    std = x.std(axis=0)
    std[std < 1e-5] = 1.0
    return ((x - x.mean(axis=0)) / std).T.astype(np.float32)


def test_feature_crops_read_only_their_rows_and_equal_the_whole_matrix_crops(demo, monkeypatch):
    data_dir, specs = demo
    labels = {u: i for i, u in enumerate(sorted(UTTS))}
    reads = []
    real = data_module.read_rows
    monkeypatch.setattr(data_module, "read_rows", lambda v, s, n, *rest: reads.append((s, n)) or real(v, s, n, *rest))
    crops = TrainCrops(data_dir, labels, CROP, seed=5)
    scp = read_map(f"{data_dir}/feats.scp")
    for item in [(0, 0, 0), (1, 0, 7), (2, 3, 1), (3, 1, 2), (3, 1, 3)]:
        x, label = crops[item]
        utt = crops.utts[item[0]]
        assert x.shape == (1, 161, CROP) and x.dtype == torch.float32 and label == labels[utt]
        np.testing.assert_allclose(x[0].numpy(), whole_matrix_crop(scp[utt], 5, item), atol=2e-5)
        assert torch.equal(x, crops[item][0])  # a resumed run sees the same example
    assert reads and all(n == CROP for _, n in reads)  # never the whole matrix


def test_short_utterances_are_padded_and_stale_lengths_named(demo, tmp_path):
    data_dir, specs = demo
    crop = max(s.shape[0] for s in specs.values()) + 50  # every utterance shorter than the crop
    labels = {u: 0 for u in UTTS}
    with pytest.raises(FeatureError, match="shorter than the"):
        TrainCrops(data_dir, labels, crop)
    crops = TrainCrops(data_dir, labels, crop, short="pad", seed=1)
    scp = read_map(f"{data_dir}/feats.scp")
    x, _ = crops[(2, 0, 4)]
    np.testing.assert_allclose(x[0].numpy(), whole_matrix_crop(scp[crops.utts[2]], 1, (2, 0, 4), crop), atol=2e-5)
    stale = tmp_path / "stale"
    stale.mkdir()
    for name in ("feats.scp", "utt2spk", "wav.scp"):
        (stale / name).write_text(open(f"{data_dir}/{name}").read())
    (stale / "utt2num_frames").write_text("".join(f"{u} {specs[u].shape[0] + 9}\n" for u in sorted(UTTS)))
    with pytest.raises(FeatureError, match=r"feats.scp: so0001-a: the stored matrix is \d+ x 161, utt2num_frames"):
        TrainCrops(str(stale), labels, CROP, seed=1)[(0, 0, 0)]


def test_noise_is_read_as_a_stretch_of_the_recording(demo, tmp_path):
    data_dir, specs = demo
    source = NoiseSource(data_dir)
    rng, again = np.random.default_rng(3), np.random.default_rng(3)
    power = source.power(rng, CROP, 161)
    key, value = source.entries[again.integers(len(source.entries))]
    start = again.integers(specs[key].shape[0] - CROP + 1)
    np.testing.assert_allclose(power, np.exp(specs[key][start:start + CROP]), rtol=1e-6)
    long = max(s.shape[0] for s in specs.values()) + 1  # every recording shorter: tiled
    tiled = source.power(np.random.default_rng(4), long, 161)
    key = source.entries[np.random.default_rng(4).integers(len(source.entries))][0]
    np.testing.assert_allclose(tiled, np.exp(np.resize(specs[key], (long, 161))), rtol=1e-6)


def test_torch_spectrogram_equals_the_stored_features(demo):
    _, specs = demo
    front = LogSpectrogram(center=True)
    for utt, path in UTTS.items():
        samples = torch.from_numpy(load_audio(f"{CORPUS}/{path}")[0])
        got = front(samples[None])[0].T.numpy()
        assert got.shape == specs[utt].shape
        assert np.abs(got - specs[utt]).max() <= 1e-3


def test_audio_crops_give_the_feature_crops(demo):
    data_dir, specs = demo
    labels = {u: i for i, u in enumerate(sorted(UTTS))}
    audio, feats = AudioCrops(data_dir, labels, CROP, seed=9), TrainCrops(data_dir, labels, CROP, seed=9)
    assert list(audio.utts) == list(feats.utts) == sorted(UTTS)
    front_end, spectrogram = audio.front_end(), LogSpectrogram(center=False)
    items = [(i, 0, p) for i in range(len(UTTS)) for p in range(3)]
    batch = torch.stack([audio[item][0] for item in items])
    assert batch.shape == (len(items), 1, 1, (CROP - 1) * 160 + 320)
    logs = spectrogram(batch[:, 0, 0])
    x = front_end(batch)
    for k, (i, e, p) in enumerate(items):
        frames = specs[audio.utts[i]].shape[0]
        start = sample_rng(9, e, p).integers(frames - CROP + 1)
        assert np.abs(logs[k].T.numpy() - specs[audio.utts[i]][start:start + CROP]).max() <= 1e-3
        np.testing.assert_allclose(x[k].numpy(), feats[(i, e, p)][0].numpy(), atol=1e-3)
    # A crop as long as the shortest recording spans both of its ends (the zero padding of the features).
    shortest = min(specs, key=lambda u: specs[u].shape[0])
    whole = AudioCrops(data_dir, {shortest: 0}, specs[shortest].shape[0])[(0, 0, 0)][0]
    assert np.abs(spectrogram(whole[0])[0].T.numpy() - specs[shortest]).max() <= 1e-3


def test_audio_noise_is_added_at_the_drawn_snr(demo):
    data_dir, _ = demo
    samples = load_audio(f"{CORPUS}/{UTTS['so0001-a']}")[0][:48320]
    for injector in (NoiseInjector(1.0, 5, 20), NoiseInjector(1.0, 5, 20, noise_data=data_dir, source="audio")):
        rng = np.random.default_rng(11)
        noisy = injector.add_to_samples(samples, rng)
        check = np.random.default_rng(11)
        check.random()
        snr = check.uniform(5, 20)
        noise = (noisy - samples).astype(np.float64)
        assert 10 * np.log10(np.sum(samples.astype(np.float64) ** 2) / np.sum(noise ** 2)) == pytest.approx(snr, abs=1e-3)
    assert NoiseInjector(0.0).add_to_samples(samples, rng) is samples


def test_training_from_audio_follows_training_from_features(tmp_path):
    """--feature-source audio end to end: without noise, one epoch from the audio gives the weights that
    one epoch from the stored features gives (the same crops, the spectrogram made by the front end)."""
    from pyspk.nnet.checkpoint import load_checkpoint
    from pyspk.nnet.train import Trainer
    from pyspk.nnet.train_options import TrainOptions
    speakers = sorted(os.listdir(CORPUS))[:4]
    files = {s: sorted(os.listdir(f"{CORPUS}/{s}/s0"))[:4] for s in speakers}
    make_data_dir(tmp_path / "train", {f"{s}-{f[:-5]}": f"{s}/s0/{f}" for s in speakers for f in files[s][:3]})
    make_data_dir(tmp_path / "valid", {f"{s}-{files[s][3][:-5]}": f"{s}/s0/{files[s][3]}" for s in speakers})
    weights = {}
    for name, source, seed in (("feats", "feats", 777), ("audio", "audio", 777), ("other_crops", "feats", 778)):
        opts = TrainOptions(width=0.0625, ndims=16, epochs=1, batch_size=6, crop_frames=101, noise_prob=0.0,
                            num_workers=0, device="cpu", feature_source=source, seed=seed)
        Trainer(opts, str(tmp_path / "train"), str(tmp_path / "valid"), str(tmp_path / name)).run()
        weights[name] = load_checkpoint(str(tmp_path / name / "last.pt"))["model"]

    def distance(a, b):
        return max((weights[a][k].float() - weights[b][k].float()).abs().max() for k in weights[a])
    # Adam turns even tiny input differences into steps of up to the learning rate (1e-3) where a
    # gradient is near zero, so the scale is set in the same run: other crops of the same features.
    assert distance("feats", "audio") < distance("feats", "other_crops") / 3


def test_white_noise_is_a_fixed_recording_read_in_random_stretches():
    """Every process (a new WhiteNoise) draws the same stretch for the same generator state, a
    periodogram of i.i.d. exponential values of mean 1 (speech-free white noise)."""
    from pyspk.nnet.noise import WhiteNoise
    a = WhiteNoise().power(np.random.default_rng(1), CROP, 161)
    b = WhiteNoise().power(np.random.default_rng(1), CROP, 161)
    c = WhiteNoise().power(np.random.default_rng(2), CROP, 161)
    assert a.shape == (CROP, 161) and a.dtype == np.float32 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(a.mean() - 1) < 0.02 and abs(a.std() - 1) < 0.03 and not a.flags.writeable
    samples = WhiteNoise().samples(np.random.default_rng(1), 48320)
    assert abs(samples.mean()) < 0.02 and abs(samples.std() - 1) < 0.02
