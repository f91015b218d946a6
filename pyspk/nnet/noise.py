"""Additive noise injection, on stored log power spectrograms or on audio crops.

On spectrograms (natural log of |STFT|^2) noise is added in the power domain:
P_noisy = P_speech + g * P_noise, with the gain g chosen so that 10 log10(sum P_speech / sum g P_noise)
equals the drawn SNR (dB) over the crop. The noise is a random stretch of a noise recording: given a
noise data dir (e.g. MUSAN noise with spectrogram features of the same configuration), of a random
recording of it, of which only the rows needed are read; else of a long white noise recording made
once per process from a fixed seed (:class:`WhiteNoise`: its periodogram, i.i.d. exponential values
of mean 1 per time-frequency bin), so a noisy crop costs a slice rather than 48,000 random draws.
On audio crops (``--feature-source=audio``) the same happens to the samples (white noise: i.i.d.
standard normal samples; a noise dir: its ``wav.scp``), at the drawn SNR over the crop's sample
energy. Everything is float32.
"""
import numpy as np

from pyspk.io.audio_stretch import audio_num_samples, read_stretch
from pyspk.io.kaldi_table import read_rows
from pyspk.io.tables import read_map

SOURCES = ("feats", "audio")


def mix_at_snr(log_power, noise_power, snr_db):
    """(frames, bins) natural-log speech power + (frames, bins) linear noise power -> noisy log power float32."""
    speech = np.exp(log_power, dtype=np.float32)
    gain = float(speech.sum()) / (max(float(noise_power.sum()), 1e-20) * 10.0 ** (snr_db / 10.0))
    speech += np.float32(gain) * noise_power
    return np.log(speech, out=speech)


def random_stretch(recording, rng, length):
    """``length`` consecutive rows of ``recording`` from a random start (a view), or the recording
    repeated end to end when it is shorter."""
    n = recording.shape[0]
    start = int(rng.integers(max(n, length) - length + 1))
    if n < length:
        return np.resize(recording, (length,) + recording.shape[1:])
    return recording[start:start + length]


class WhiteNoise:
    """White noise as a long recording, made on first use in each process from a fixed seed (so every
    loader process and every resumed run has the same one)."""

    FRAMES = 1 << 15   # periodogram frames (5.5 min at a 10 ms hop)
    SAMPLES = 1 << 22  # samples (4.4 min at 16 kHz)
    SEED = 20180902

    def __init__(self):
        self._power, self._samples = {}, None

    def power(self, rng, frames, bins):
        """(frames, bins) float32 periodogram stretch: i.i.d. exponential values of mean 1 (read-only)."""
        if bins not in self._power:
            self._power[bins] = np.random.default_rng([self.SEED, bins]).standard_exponential(
                (self.FRAMES, bins), dtype=np.float32)
            self._power[bins].flags.writeable = False
        return random_stretch(self._power[bins], rng, frames)

    def samples(self, rng, count):
        """(count,) float32 stretch of i.i.d. standard normal samples (read-only)."""
        if self._samples is None:
            self._samples = np.random.default_rng(self.SEED).standard_normal(self.SAMPLES, dtype=np.float32)
            self._samples.flags.writeable = False
        return random_stretch(self._samples, rng, count)


class NoiseSource:
    """Random noise stretches from a noise data dir: its ``feats.scp`` (log power spectrograms) for
    ``source="feats"``, its ``wav.scp`` (sound files at ``rate`` Hz) for ``source="audio"``."""

    def __init__(self, data_dir, source="feats", rate=16000):
        if source not in SOURCES:
            raise ValueError(f"noise source must be one of {SOURCES}, not {source!r}")
        self.table = f"{data_dir}/{'feats' if source == 'feats' else 'wav'}.scp"
        self.entries = sorted(read_map(self.table).items())
        if not self.entries:
            raise ValueError(f"{self.table}: no noise recordings")
        if source == "feats":
            self.lengths = [read_rows(v, 0, 0, f"noise {k} of {self.table}", k)[0] for k, v in self.entries]
        else:
            self.lengths = [audio_num_samples(v, rate) for _, v in self.entries]

    def _pick(self, rng, length):
        """(key, entry, stored length, start) of a random stretch of ``length``; start 0 when it is
        shorter (drawn as :func:`random_stretch` draws it)."""
        i = int(rng.integers(len(self.entries)))
        key, value = self.entries[i]
        n = self.lengths[i]
        return key, value, n, int(rng.integers(max(n, length) - length + 1))

    def power(self, rng, frames, bins):
        """Linear noise power (frames, bins) float32 from a random recording, tiled if it is shorter."""
        key, value, n, start = self._pick(rng, frames)
        what = f"noise {key} of {self.table}"
        _, noise = read_rows(value, start, None if n < frames else frames, what, key)
        if noise.shape[1] != bins:
            raise ValueError(f"{self.table}: noise {key} has {noise.shape[1]} bins, expected {bins}")
        if n < frames:
            noise = np.resize(noise, (frames, bins))
        return np.exp(noise)

    def samples(self, rng, count):
        """(count,) float32 noise samples from a random recording, tiled if it is shorter."""
        _, value, n, start = self._pick(rng, count)
        if n < count:
            return np.resize(read_stretch(value.strip(), 0, n), count)
        return read_stretch(value.strip(), start, count)


class NoiseInjector:
    """With probability ``prob``, add noise at an SNR drawn uniformly from [snr_min, snr_max] dB.

    ``noise_data``: a noise data dir (else white noise), read as ``source`` ("feats" or "audio").
    """

    def __init__(self, prob=0.5, snr_min=5.0, snr_max=20.0, noise_data="", source="feats"):
        if not 0.0 <= prob <= 1.0 or snr_min > snr_max:
            raise ValueError(f"bad noise options: prob {prob}, snr {snr_min}..{snr_max} dB")
        self.prob, self.snr_min, self.snr_max = prob, snr_min, snr_max
        self.source = NoiseSource(noise_data, source) if noise_data else WhiteNoise()

    def _snr(self, rng):
        """The drawn SNR in dB, or None for a clean example."""
        if self.prob == 0.0 or rng.random() >= self.prob:
            return None
        return rng.uniform(self.snr_min, self.snr_max)

    def __call__(self, log_power, rng):
        """log_power (frames, bins) float32 -> (frames, bins) float32, noisy or unchanged."""
        snr = self._snr(rng)
        if snr is None:
            return log_power
        return mix_at_snr(log_power, self.source.power(rng, *log_power.shape), snr)

    def add_to_samples(self, samples, rng):
        """samples (n,) float32 audio -> (n,) float32, noisy or unchanged."""
        snr = self._snr(rng)
        if snr is None:
            return samples
        noise = self.source.samples(rng, samples.shape[0])
        energy = float(np.dot(samples, samples))
        gain = np.sqrt(energy / (max(float(np.dot(noise, noise)), 1e-20) * 10.0 ** (snr / 10.0)))
        return samples + np.float32(gain) * noise
