"""Log power spectrogram of Yadav & Rai (2018).

Hamming window of 20 ms (320 samples at 16 kHz), hop 10 ms (160), FFT size 320 -> 161 bins,
centred framing: the signal is padded with zeros by half a window at each end (librosa 0.11's
``stft(center=True)`` default, ``pad_mode="constant"``), so n samples give 1 + n // hop frames and
3.0 s gives 301 frames. Output is natural-log power with a small floor, stored raw:
consumers apply per-utterance mean and variance normalisation (``transforms.mean_variance_normalise``).
"""
from dataclasses import dataclass

import numpy as np

BLOCK_FRAMES = 4096  # frames transformed at once: bounds memory for long recordings


@dataclass
class SpectrogramOptions:
    """Options of ``compute-spectrogram`` (``--key=value`` lines in conf/spectrogram.conf)."""
    sample_rate: int = 16000     # Hz; audio at another rate is resampled to it
    frame_length: int = 320      # samples per window (20 ms)
    frame_shift: int = 160       # samples between frames (10 ms)
    n_fft: int = 320             # FFT size; bins = n_fft // 2 + 1
    log_floor: float = 1e-10     # power floor before the log (power of samples in [-1, 1))

    def check(self):
        if not 0 < self.frame_shift <= self.frame_length <= self.n_fft:
            raise ValueError(f"spectrogram options need 0 < frame-shift <= frame-length <= n-fft, got "
                             f"{self.frame_shift}, {self.frame_length}, {self.n_fft}")
        if self.log_floor <= 0:
            raise ValueError(f"spectrogram option log-floor must be > 0, got {self.log_floor}")


def hamming_window(length):
    """Periodic Hamming window (scipy/librosa ``get_window('hamming', length)``), float32 (length,)."""
    n = np.arange(length, dtype=np.float64)
    return (0.54 - 0.46 * np.cos(2 * np.pi * n / length)).astype(np.float32)


def num_frames(num_samples, opts):
    """Frames of a centred spectrogram of ``num_samples`` samples."""
    return 1 + num_samples // opts.frame_shift


def log_spectrogram(samples, opts=SpectrogramOptions()):
    """samples: float32 (n,) at opts.sample_rate, n >= frame_length.

    Returns float32 (frames, n_fft // 2 + 1) = log(|STFT|^2 + log_floor), frames = 1 + n // frame_shift.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1 or x.shape[0] < opts.frame_length:
        raise ValueError(f"log_spectrogram: need a 1-D signal of at least {opts.frame_length} samples, "
                         f"got shape {x.shape}")
    window = hamming_window(opts.frame_length)
    if opts.frame_length < opts.n_fft:  # centre a short window in the FFT frame, as librosa does
        left = (opts.n_fft - opts.frame_length) // 2
        window = np.pad(window, (left, opts.n_fft - opts.frame_length - left))
    half = opts.n_fft // 2
    padded = np.pad(x, (half, half))
    frames = np.lib.stride_tricks.sliding_window_view(padded, opts.n_fft)[::opts.frame_shift]
    frames = frames[:num_frames(x.shape[0], opts)]
    out = np.empty((frames.shape[0], half + 1), dtype=np.float32)
    for start in range(0, frames.shape[0], BLOCK_FRAMES):
        spec = np.fft.rfft(frames[start:start + BLOCK_FRAMES] * window, axis=1)
        power = spec.real * spec.real + spec.imag * spec.imag
        np.log(power + np.float32(opts.log_floor), out=out[start:start + BLOCK_FRAMES])
    return out
