"""Additive noise injection on stored log power spectrograms (natural log of |STFT|^2).

Noise is added in the power domain: P_noisy = P_speech + g * P_noise, with the gain g chosen so that
10 log10(sum P_speech / sum g P_noise) equals the drawn SNR (dB) over the crop. The noise is either
white Gaussian noise (its periodogram: i.i.d. exponential values of mean 1 per time-frequency bin)
or, given a noise data dir (e.g. MUSAN noise with spectrogram features of the same configuration),
a random stretch of a random recording from it.
"""
import numpy as np

from pyspk.io.kaldi_table import read_entry
from pyspk.io.tables import read_map


def mix_at_snr(log_power, noise_power, snr_db):
    """(frames, bins) natural-log speech power + (frames, bins) linear noise power -> noisy log power."""
    speech = np.exp(log_power.astype(np.float64))
    gain = speech.sum() / (max(noise_power.sum(), 1e-20) * 10.0 ** (snr_db / 10.0))
    return np.log(speech + gain * noise_power).astype(np.float32)


class NoiseSource:
    """Random noise stretches from a noise data dir's ``feats.scp`` (log power spectrograms)."""

    def __init__(self, data_dir):
        self.scp_path = f"{data_dir}/feats.scp"
        self.entries = sorted(read_map(self.scp_path).items())
        if not self.entries:
            raise ValueError(f"{self.scp_path}: no noise recordings")

    def sample(self, rng, frames, bins):
        """Linear noise power (frames, bins) from a random recording, tiled if it is shorter."""
        key, value = self.entries[rng.integers(len(self.entries))]
        noise = read_entry(value, what=f"noise {key} of {self.scp_path}", key=key)
        if noise.ndim != 2 or noise.shape[0] == 0 or noise.shape[1] != bins:
            raise ValueError(f"{self.scp_path}: noise {key} has shape {noise.shape}, expected (frames, {bins})")
        if noise.shape[0] < frames:
            noise = np.resize(noise, (frames, bins))
        start = rng.integers(noise.shape[0] - frames + 1)
        return np.exp(noise[start:start + frames].astype(np.float64))


class NoiseInjector:
    """With probability ``prob``, add noise at an SNR drawn uniformly from [snr_min, snr_max] dB."""

    def __init__(self, prob=0.5, snr_min=5.0, snr_max=20.0, noise_data=""):
        if not 0.0 <= prob <= 1.0 or snr_min > snr_max:
            raise ValueError(f"bad noise options: prob {prob}, snr {snr_min}..{snr_max} dB")
        self.prob, self.snr_min, self.snr_max = prob, snr_min, snr_max
        self.source = NoiseSource(noise_data) if noise_data else None

    def __call__(self, log_power, rng):
        """log_power (frames, bins) float32 -> (frames, bins) float32, noisy or unchanged."""
        if self.prob == 0.0 or rng.random() >= self.prob:
            return log_power
        snr = rng.uniform(self.snr_min, self.snr_max)
        if self.source is None:
            noise = rng.exponential(1.0, size=log_power.shape)
        else:
            noise = self.source.sample(rng, *log_power.shape)
        return mix_at_snr(log_power, noise, snr)
