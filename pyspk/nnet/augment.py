"""SpecAugment-style masking of training crops (Park et al., Interspeech 2019), as a batch transform on
the training device (no warping): each crop gets ``freq_masks`` stripes of frequency bins and
``time_masks`` stripes of frames set to zero, which is the mean of the crop's normalised features.
A stripe's width is drawn uniformly from 0 .. ``width`` and its start uniformly where it fits. The
draws use torch's generator of the device, which the trainer seeds per epoch (so resume is exact).
"""
import torch


def _stripes(batch, size, count, max_width, device):
    """(batch, size) bool: True inside any of ``count`` random stripes of at most ``max_width``."""
    if count <= 0 or max_width <= 0:
        return torch.zeros(batch, size, dtype=torch.bool, device=device)
    max_width = min(max_width, size)
    width = torch.randint(0, max_width + 1, (batch, count, 1), device=device)
    start = (torch.rand(batch, count, 1, device=device) * (size - width + 1)).long()
    position = torch.arange(size, device=device)
    return ((position >= start) & (position < start + width)).any(dim=1)


def spec_augment(x, freq_masks=1, freq_width=16, time_masks=1, time_width=10):
    """x (batch, 1, bins, frames) normalised crops -> a copy with random frequency and time stripes zeroed."""
    batch, _, bins, frames = x.shape
    freq = _stripes(batch, bins, freq_masks, freq_width, x.device)
    time = _stripes(batch, frames, time_masks, time_width, x.device)
    masked = freq[:, None, :, None] | time[:, None, None, :]
    return x.masked_fill(masked, 0.0)
