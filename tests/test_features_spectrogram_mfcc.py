"""Spectrogram, MFCC and VAD against independent references, and ark files read back by two readers."""
import os

import kaldi_native_io
import kaldiio
import numpy as np
import pytest
import soundfile

from conftest import ROOT
from pyspk.features.mfcc import MfccOptions, compute_mfcc, dither_seed
from pyspk.features.spectrogram import SpectrogramOptions, log_spectrogram
from pyspk.features.vad import VadOptions, compute_vad
from pyspk.io.kaldi_table import ArkScpWriter

DEMO_UTT = os.path.join(ROOT, "egs/demo/corpus/wav/so0001/s0/000010035.flac")  # 3.43 s of speech


def assert_log_power_close(spec, reference):
    """Float32 tolerance for an FFT: each bin within 1e-5 relative plus 1e-6 of its frame's peak power
    (rounding error scales with the frame's energy, so the weakest bins differ most in log terms)."""
    power, ref = np.exp(spec.astype(np.float64)), np.exp(reference)
    bound = 1e-5 * ref + 1e-6 * ref.max(axis=-1, keepdims=True)
    assert np.all(np.abs(power - ref) <= bound), np.max(np.abs(power - ref) / bound)
    np.testing.assert_allclose(spec, reference, atol=1e-3)


def speech(seconds=3.0):
    """Real speech from the demo corpus, cut to ``seconds``."""
    x, rate = soundfile.read(DEMO_UTT, dtype="float32")
    assert rate == 16000
    return x[:int(seconds * rate)]


def test_three_seconds_give_161_by_301_matching_librosa():
    librosa = pytest.importorskip("librosa")
    x = speech(3.0)
    spec = log_spectrogram(x)
    assert spec.shape == (301, 161) and spec.dtype == np.float32
    power = np.abs(librosa.stft(x, n_fft=320, hop_length=160, win_length=320, window="hamming",
                                center=True, pad_mode="constant")) ** 2
    assert_log_power_close(spec, np.log(power.astype(np.float64) + 1e-10).T)


def test_spectrogram_matches_plain_numpy_definition():
    """Frame t covers samples [160 t - 160, 160 t + 160) of the zero-padded signal, periodic Hamming."""
    x = speech(1.0) + 0.0
    spec = log_spectrogram(x)
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(320) / 320)
    padded = np.concatenate([np.zeros(160), x.astype(np.float64), np.zeros(160)])
    for t in (0, 1, 50, 100):
        frame = padded[160 * t:160 * t + 320] * window
        power = np.abs(np.fft.rfft(frame)) ** 2
        assert_log_power_close(spec[t], np.log(power + 1e-10))
    assert log_spectrogram(np.zeros(320, np.float32)).min() == pytest.approx(np.log(1e-10))
    with pytest.raises(ValueError, match="at least 320 samples"):
        log_spectrogram(np.zeros(319, np.float32))
    long = log_spectrogram(np.tile(x, 70))  # more frames than one processing block
    np.testing.assert_array_equal(long[:100], spec[:100])
    assert long.shape == (1 + 70 * 16000 // 160, 161)
    assert SpectrogramOptions().n_fft // 2 + 1 == 161


def kaldi_mfcc_loop(x, opts):
    """Frame-by-frame transcription of Kaldi's MFCC (feature-window.cc, mel-computations.cc, no dither)."""
    x = x.astype(np.float64) * 32768
    n, size, shift, nfft = len(x), opts.window_size, opts.window_shift, opts.padded_window_size
    mel = lambda f: 1127.0 * np.log(1 + f / 700.0)  # noqa: E731
    lo, hi = mel(opts.low_freq), mel(opts.high_freq)
    delta = (hi - lo) / (opts.num_mel_bins + 1)
    rows = []
    for t in range((n + shift // 2) // shift):
        start = t * shift + shift // 2 - size // 2
        frame = np.empty(size)
        for s in range(size):
            i = start + s
            while i < 0 or i >= n:
                i = -i - 1 if i < 0 else 2 * n - 1 - i
            frame[s] = x[i]
        frame -= frame.mean()
        energy = np.log(max(frame @ frame, np.finfo(np.float32).eps))
        for i in range(size - 1, 0, -1):
            frame[i] -= 0.97 * frame[i - 1]
        frame[0] -= 0.97 * frame[0]
        frame *= (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / (size - 1))) ** 0.85
        power = np.abs(np.fft.rfft(frame, nfft)) ** 2
        energies = np.zeros(opts.num_mel_bins)
        for b in range(opts.num_mel_bins):
            left, centre, right = lo + b * delta, lo + (b + 1) * delta, lo + (b + 2) * delta
            for k in range(nfft // 2):
                m = mel(k * opts.sample_frequency / nfft)
                if left < m < right:
                    energies[b] += power[k] * ((m - left) / (centre - left) if m <= centre else (right - m) / (right - centre))
        logmel = np.log(np.maximum(energies, np.finfo(np.float32).eps))
        nb = opts.num_mel_bins
        ceps = [np.sqrt((1 if k == 0 else 2) / nb) * sum(logmel[j] * np.cos(np.pi / nb * (j + 0.5) * k) for j in range(nb))
                for k in range(opts.num_ceps)]
        ceps = [c * (1 + 11 * np.sin(np.pi * k / 22)) for k, c in enumerate(ceps)]
        ceps[0] = energy
        rows.append(ceps)
    return np.array(rows)


def test_mfcc_matches_kaldi_loop_reference():
    x = speech(0.3)
    opts = MfccOptions(dither=0.0)
    got = compute_mfcc(x, opts)
    assert got.shape == (30, 13) and got.dtype == np.float32
    np.testing.assert_allclose(got, kaldi_mfcc_loop(x, opts), rtol=1e-4, atol=2e-3)


def test_mfcc_dither_is_reproducible_and_small():
    x = speech(1.0)
    a = compute_mfcc(x, seed=dither_seed("utt-a"))
    np.testing.assert_array_equal(a, compute_mfcc(x, seed=dither_seed("utt-a")))
    assert not np.array_equal(a, compute_mfcc(x, seed=dither_seed("utt-b")))
    loud = a[:, 0] > np.median(a[:, 0])  # dither (std 1 on a 16-bit scale) matters only in quiet frames
    clean = compute_mfcc(x, MfccOptions(dither=0.0))
    np.testing.assert_allclose(a[loud, 0], clean[loud, 0], atol=0.01)
    assert np.abs(a[loud] - clean[loud]).mean() < 0.1
    silence = compute_mfcc(np.zeros(16000, np.float32), seed=1)  # dither keeps digital silence finite
    assert np.isfinite(silence).all() and abs(silence[:, 0].mean() - np.log(400)) < 0.3
    with pytest.raises(ValueError, match="at least 400 samples"):
        compute_mfcc(np.zeros(399, np.float32))


def test_energy_vad_finds_speech_between_silences():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(8000), speech(2.0), np.zeros(8000)]).astype(np.float32)
    x += rng.normal(0, 1e-4, x.shape).astype(np.float32)
    vad = compute_vad(compute_mfcc(x, seed=3))
    assert vad.shape == (300,) and vad.dtype == np.float32 and set(np.unique(vad)) <= {0.0, 1.0}
    assert vad[:45].sum() == 0 and vad[-45:].sum() == 0  # the half-second silences
    assert vad[50:250].mean() > 0.6
    # Kaldi's rule by hand on a log-energy ramp: threshold 5.5 + 0.5 * mean = 5.5 + 0.5 * 4.5 = 7.75.
    feats = np.zeros((10, 2), np.float32)
    feats[:, 0] = np.arange(10)
    expected = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]  # frame 6 sees frame 8 (> 7.75): 1 of 5 >= 0.12; frame 5 none
    np.testing.assert_array_equal(compute_vad(feats), expected)
    strict = VadOptions(vad_frames_context=0, vad_proportion_threshold=0.5)
    np.testing.assert_array_equal(compute_vad(feats, strict), [0] * 8 + [1, 1])


def test_ark_reads_back_identically_with_kaldiio_and_kaldi_native_io(tmp_path):
    feats = {"so0001-a": log_spectrogram(speech(3.0)), "so0001-b": compute_mfcc(speech(1.0), seed=1)}
    vad = compute_vad(feats["so0001-b"])
    ark, scp = str(tmp_path / "raw.1.ark"), str(tmp_path / "raw.1.scp")
    with ArkScpWriter(ark, scp) as w:
        for key, value in feats.items():
            w.write(key, value)
    with ArkScpWriter(tmp_path / "vad.1.ark", tmp_path / "vad.1.scp") as w:
        w.write("so0001-b", vad)
    by_kaldiio = kaldiio.load_scp(scp)
    with kaldi_native_io.RandomAccessFloatMatrixReader(f"scp:{scp}") as by_kni:
        for key, value in feats.items():
            np.testing.assert_array_equal(by_kaldiio[key], value)
            np.testing.assert_array_equal(by_kni[key], value)
    assert by_kaldiio["so0001-a"].shape == (301, 161)
    with kaldi_native_io.SequentialFloatMatrixReader(f"ark:{ark}") as reader:
        assert [key for key, _ in reader] == ["so0001-a", "so0001-b"]
    with kaldi_native_io.RandomAccessFloatVectorReader(f"scp:{tmp_path}/vad.1.scp") as reader:
        np.testing.assert_array_equal(reader["so0001-b"], vad)
    np.testing.assert_array_equal(kaldiio.load_scp(str(tmp_path / "vad.1.scp"))["so0001-b"], vad)
