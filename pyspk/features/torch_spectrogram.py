"""The log power spectrogram of ``pyspk.features.spectrogram`` computed with torch on any device,
for training straight from audio (``--feature-source=audio``).

Same window (periodic Hamming, centred in the FFT frame), hop, FFT size and log floor, and the same
arithmetic: frames are windowed in float32 and transformed in float64 (``torch.fft.rfft`` on the
framed signal, i.e. ``torch.stft`` with the windowing done first). A float32 FFT, or windowing in
float64, moves the quietest bins of a frame by up to 2e-2 in log power; this way the output
(float32) agrees with the stored features within 1e-3.
"""
import numpy as np
import torch

from pyspk.features.spectrogram import SpectrogramOptions, hamming_window


class LogSpectrogram(torch.nn.Module):
    """(batch, samples) float audio -> (batch, bins, frames) float32 natural-log power.

    ``center=True``: the signal is zero-padded by half a window at each end, as the stored
    features are (frames = 1 + samples // hop). ``center=False``: the input is already a stretch with
    that context (a training crop of ``(frames - 1) * hop + n_fft`` samples gives ``frames`` frames).
    """

    def __init__(self, opts=SpectrogramOptions(), center=False):
        super().__init__()
        opts.check()
        self.opts, self.center = opts, center
        window = hamming_window(opts.frame_length)
        left = (opts.n_fft - opts.frame_length) // 2
        window = np.pad(window, (left, opts.n_fft - opts.frame_length - left))
        self.register_buffer("window", torch.from_numpy(window), persistent=False)

    def forward(self, samples):
        x = samples.float()
        if self.center:
            half = self.opts.n_fft // 2
            x = torch.nn.functional.pad(x, (half, half))
        frames = x.unfold(-1, self.opts.n_fft, self.opts.frame_shift) * self.window  # (batch, frames, n_fft)
        spec = torch.fft.rfft(frames.double(), dim=-1)
        power = spec.real.square() + spec.imag.square()
        return torch.log(power + self.opts.log_floor).float().transpose(1, 2)
