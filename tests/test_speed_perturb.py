"""Speed perturbation (utils/perturb_data_dir_speed.sh): each copy a new speaker, durations 1/f, pitch moved."""
import os
import subprocess

import numpy as np
import soundfile

from conftest import ROOT
from pyspk.augment.speed_perturb import perturb_speed
from pyspk.io.datadir import DataDir, validate_data_dir
from pyspk.io.tables import write_map

DEMO = os.path.join(ROOT, "egs", "demo", "corpus", "wav")


def test_speed_factor_scales_duration_and_frequency():
    rate = 16000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    for factor in (0.9, 1.1):
        out = perturb_speed(tone, factor, rate)
        assert abs(len(out) - rate / factor) <= 1
        peak = np.argmax(np.abs(np.fft.rfft(out))) * rate / len(out)
        assert abs(peak - 440 * factor) < 2, (factor, peak)


def test_data_dir_gets_perturbed_copies_as_new_speakers(tmp_path):
    src = tmp_path / "src"
    speakers = sorted(os.listdir(DEMO))[:2]
    wav, utt2spk = {}, {}
    for spk in speakers:
        for name in sorted(os.listdir(os.path.join(DEMO, spk, "s0")))[:3]:
            utt = f"{spk}-s0-{name.split('.')[0]}"
            wav[utt], utt2spk[utt] = os.path.join(DEMO, spk, "s0", name), spk
    bad = f"{speakers[1]}-s0-zzzzbroken"
    (tmp_path / "broken.flac").write_bytes(b"not audio at all")
    wav[bad], utt2spk[bad] = str(tmp_path / "broken.flac"), speakers[1]
    src.mkdir()
    write_map(src / "wav.scp", wav)
    write_map(src / "utt2spk", utt2spk)
    out = subprocess.run([os.path.join(ROOT, "utils", "perturb_data_dir_speed.sh"), "--factors", "0.9 1.1",
                          str(src), str(tmp_path / "dst"), str(tmp_path / "audio")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr + out.stdout
    assert f"{bad}: skipped" in out.stdout + out.stderr
    dst = DataDir(tmp_path / "dst")
    validate_data_dir(dst.path)
    assert len(dst.utts) == 3 * 6
    assert set(dst.speakers) == {p + s for s in speakers for p in ("", "sp0.9-", "sp1.1-")}
    dur = dst.read("utt2dur")
    for utt in list(wav)[:6]:
        original = soundfile.info(wav[utt]).frames
        for factor in (0.9, 1.1):
            copy = dst.wav_scp[f"sp{factor:g}-{utt}"]
            assert os.path.isabs(copy)
            frames = soundfile.info(copy).frames
            assert abs(frames - original / factor) <= 1
            assert abs(float(dur[f"sp{factor:g}-{utt}"]) - frames / 16000) < 1e-3
    # A subset by original speakers (local/tune_cnn.sh, local/learning_curve.sh) takes their copies along.
    write_map(tmp_path / "keep", {speakers[0]: "x"})
    for with_copies, kept in (("true", {p + speakers[0] for p in ("", "sp0.9-", "sp1.1-")}), ("false", {speakers[0]})):
        out = subprocess.run([os.path.join(ROOT, "utils", "subset_data_dir.sh"), "--spk-list", str(tmp_path / "keep"),
                              "--with-speed-copies", with_copies, dst.path, str(tmp_path / "part")],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr + out.stdout
        assert set(DataDir(tmp_path / "part").speakers) == kept


def test_keep_speakers_adds_utterances_not_speakers(tmp_path):
    src = tmp_path / "src"
    spk = sorted(os.listdir(DEMO))[0]
    names = sorted(os.listdir(os.path.join(DEMO, spk, "s0")))[:2]
    src.mkdir()
    write_map(src / "wav.scp", {f"{spk}-s0-{n.split('.')[0]}": os.path.join(DEMO, spk, "s0", n) for n in names})
    write_map(src / "utt2spk", {f"{spk}-s0-{n.split('.')[0]}": spk for n in names})
    out = subprocess.run([os.path.join(ROOT, "utils", "perturb_data_dir_speed.sh"), "--keep-speakers", "true",
                          str(src), str(tmp_path / "dst"), str(tmp_path / "audio")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr + out.stdout
    dst = DataDir(tmp_path / "dst")
    validate_data_dir(dst.path)
    assert dst.speakers == [spk] and len(dst.utts) == 6
    assert {u.rsplit("-", 1)[1] for u in dst.utts if "-sp" in u} == {"sp0.9", "sp1.1"}
