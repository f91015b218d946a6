"""A trained network outside the recipe: pyspk.load_model (embed / score / identify), embed_wavs and
the TorchScript export, each checked against the recipe's own embeddings (xvector ark) of the same
demo-corpus files. The network is a tiny one trained here for one epoch on 3 speakers."""
import os
import subprocess

import kaldi_native_io
import numpy as np
import pytest
import soundfile
import soxr
import torch

import pyspk
from conftest import ROOT, utt_id
from pyspk.bin import embed_wavs
from pyspk.bin.options import run_command
from pyspk.features.spectrogram import log_spectrogram
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter, load_scp
from pyspk.io.tables import read_table, write_table
from pyspk.nnet.checkpoint import load_model_and_head
from pyspk.nnet.extract import extract_embeddings
from pyspk.nnet.identify import identification_accuracy
from pyspk.nnet.train import Trainer
from pyspk.nnet.train_options import TrainOptions

CORPUS = os.path.join(ROOT, "egs", "demo", "corpus")
SPEAKERS = ("so0001", "so0036", "so0075")


def data_dir(path, utts, scp):
    os.makedirs(path)
    write_table(f"{path}/utt2spk", [[u, u.split("-")[0]] for u in utts])
    write_table(f"{path}/spk2utt", [[s, *[u for u in utts if u.startswith(s)]] for s in SPEAKERS])
    write_table(f"{path}/feats.scp", [[u, scp[u]] for u in utts])
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(exp dir, {utt: wav path}, test data dir, recipe xvector.scp of the test utterances)."""
    if not os.path.isdir(CORPUS):
        pytest.skip(f"no demo corpus at {CORPUS}")
    root = tmp_path_factory.mktemp("api")
    rows = [line.split() for line in open(f"{CORPUS}/iden_split.txt") if line.split()[1][:6] in SPEAKERS]
    wavs, split = {}, {}
    with ArkScpWriter(str(root / "spec.ark"), str(root / "spec.scp")) as writer:
        for part, path in rows:
            utt = utt_id(path)
            wavs[utt], split[utt] = f"{CORPUS}/wav/{path}", part
            writer.write(utt, log_spectrogram(load_audio(wavs[utt])[0]))   # as steps/make_spectrogram.sh
    scp = dict(read_table(str(root / "spec.scp"), 2, 2))
    dirs = {p: data_dir(str(root / p), sorted(u for u in split if split[u] == p), scp) for p in "123"}
    opts = TrainOptions(width=0.0625, ndims=16, epochs=1, batch_size=8, crop_frames=101, short_utterances="pad",
                        num_workers=0, log_every=1000, learning_rate=0.003, device="cpu")
    Trainer(opts, dirs["1"], dirs["2"], str(root / "exp")).run()
    model, _, _ = load_model_and_head(str(root / "exp" / "final.pt"))
    test_utts = sorted(u for u in split if split[u] == "3")
    extract_embeddings(model, dirs["3"], test_utts, str(root / "xv.ark"), str(root / "xv.scp"), torch.device("cpu"))
    return str(root / "exp"), wavs, dirs["3"], str(root / "xv.scp")


def cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_load_model_embeds_as_the_recipe(trained, tmp_path):
    exp, wavs, _, xvector_scp = trained
    model = pyspk.load_model(exp)
    recipe = load_scp(xvector_scp)
    for utt, vector in recipe.items():
        mine = model.embed(wavs[utt])
        assert mine.shape == (16,) and mine.dtype == np.float32
        np.testing.assert_allclose(mine, vector, rtol=1e-4, atol=1e-5)
    a, b = sorted(recipe)[:2]
    assert model.score(wavs[a], wavs[b]) == pytest.approx(cosine(recipe[a], recipe[b]), abs=1e-5)
    assert model.score(recipe[a], recipe[a]) == pytest.approx(1.0)
    # Stereo at 44.1 kHz: downmixed and resampled as the recipe loads audio.
    samples, rate = soundfile.read(wavs[a], dtype="float32")
    stereo = np.stack([soxr.resample(samples, rate, 44100)] * 2, axis=1)
    soundfile.write(tmp_path / "stereo.wav", stereo, 44100, subtype="FLOAT")
    from_file = model.embed(str(tmp_path / "stereo.wav"))
    np.testing.assert_allclose(from_file, model.embed(stereo, sample_rate=44100), rtol=1e-5, atol=1e-6)
    assert cosine(from_file, recipe[a]) > 0.99
    with pytest.raises(ValueError, match="sample_rate"):
        model.embed(samples)


def test_identify_agrees_with_the_recipe_identification(trained):
    exp, wavs, test_dir, _ = trained
    model = pyspk.load_model(exp)
    utts = sorted(u for u in wavs if u in dict(read_table(f"{test_dir}/utt2spk", 2, 2)))
    top1 = np.mean([model.identify(wavs[u], k=3)[0][0] == u.split("-")[0] for u in utts])
    top, _ = identification_accuracy(model.model, model.head, test_dir, {u: u.split("-")[0] for u in utts},
                                     model.speakers, torch.device("cpu"))
    assert 100 * top1 == pytest.approx(top[1])
    best = model.identify(wavs[utts[0]], k=3)
    assert sorted(s for s, _ in best) == sorted(SPEAKERS) and best[0][1] >= best[1][1] >= best[2][1]


def test_embed_wavs_text_and_ark(trained, tmp_path, capsys, monkeypatch):
    exp, wavs, _, xvector_scp = trained
    recipe = load_scp(xvector_scp)
    utts = sorted(recipe)[:2]
    monkeypatch.chdir(f"{CORPUS}/wav")
    paths = [os.path.relpath(wavs[u], f"{CORPUS}/wav") for u in utts]   # keys: so0001-s0-000010011
    embed_wavs.main([exp, *paths])
    (tmp_path / "vectors.txt").write_text(capsys.readouterr().out)
    reader = kaldi_native_io.SequentialFloatVectorReader(f"ark,t:{tmp_path / 'vectors.txt'}")
    got = {key: np.array(v) for key, v in reader}   # a copy: the reader reuses its buffer
    assert sorted(got) == sorted(embed_wavs.wav_key(p) for p in paths) == sorted(utts)
    for u in utts:
        np.testing.assert_allclose(got[u], recipe[u], rtol=1e-4, atol=1e-5)
    embed_wavs.main([f"--output=ark,scp:{tmp_path / 'e.ark'},{tmp_path / 'e.scp'}", exp, *paths])
    reader = kaldi_native_io.RandomAccessFloatVectorReader(f"scp:{tmp_path / 'e.scp'}")
    for u in utts:
        np.testing.assert_array_equal(np.asarray(reader[u]), got[u])


def test_exported_torchscript_equals_the_recipe(trained, tmp_path):
    exp, wavs, _, xvector_scp = trained
    out = tmp_path / "embedder.pt"
    run = subprocess.run(["steps/export_model.sh", exp, str(out)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    module = torch.jit.load(str(out))
    recipe = load_scp(xvector_scp)
    for utt, vector in recipe.items():
        waveform = torch.from_numpy(load_audio(wavs[utt])[0])[None]
        got = module(waveform)[0].detach().numpy()
        assert cosine(got, vector) >= 0.9999, utt
    # A batch of two equal-length waveforms, and one shorter than the network's minimum (repeated).
    a = torch.from_numpy(load_audio(wavs[sorted(recipe)[0]])[0])
    pair = module(torch.stack([a[:32000], a[8000:40000]]))
    model = pyspk.load_model(exp)
    for i, piece in enumerate((a[:32000], a[8000:40000])):
        assert cosine(pair[i].detach().numpy(), model.embed(piece.numpy(), sample_rate=16000)) >= 0.9999
    short = a[:1600].numpy()
    assert cosine(module(torch.from_numpy(short)[None])[0].detach().numpy(),
                  model.embed(short, sample_rate=16000)) >= 0.9999


def test_embed_wavs_bad_input_is_one_line(trained, tmp_path, capsys):
    exp, wavs, _, _ = trained
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.wav").write_bytes(b"not audio at all")
    for args, message in [
        ([exp, str(tmp_path / "missing.wav")], "missing.wav: no such file"),
        ([exp, str(tmp_path / "a" / "x.wav")], "x.wav: not readable audio"),
        ([exp, "a/x.wav", "a/x.flac"], "two files give the key 'a-x'"),
        ([str(tmp_path), next(iter(wavs.values()))], "no final.pt"),
    ]:
        with pytest.raises(SystemExit) as exit_:
            run_command(embed_wavs.main, args)
        out, err = capsys.readouterr()
        assert exit_.value.code == 1 and out == "" and len(err.strip().splitlines()) == 1, err
        assert ": error: " in err and message in err, err
