"""Training crops read straight from audio (``--feature-source=audio``): no feature store needed.

The loader reads, by seeking in the sound file, exactly the samples that a ``crop_frames`` crop of
the centred spectrogram covers (``(crop_frames - 1) * hop + n_fft``, zeros beyond either end of the
recording, as the stored features' padding); noise is added to those samples. On the training
device, :class:`AudioFrontEnd` computes the log power spectrogram (``LogSpectrogram``, equal to the
stored features) and normalises each crop. The crop offsets are drawn exactly as for stored
features (same seed, epoch and position give the same frames).
"""
import logging

import numpy as np
import torch

from pyspk.features.spectrogram import SpectrogramOptions, num_frames
from pyspk.features.torch_spectrogram import LogSpectrogram
from pyspk.io.audio import AudioError
from pyspk.io.audio_stretch import audio_num_samples, read_stretch
from pyspk.io.tables import read_map
from pyspk.nnet.data import FeatureError, PackedStrings, sample_rng, select_utterances

logger = logging.getLogger(__name__)


def read_num_samples(wav_scp, utts, rate):
    """``utt -> samples`` of every utterance from the sound files' headers; errors name the file."""
    table = read_map(wav_scp)
    missing = [u for u in utts if u not in table]
    if missing:
        raise FeatureError(f"{wav_scp}: no audio for {len(missing)} utterance(s), e.g. {', '.join(missing[:3])}")
    logger.info(f"{wav_scp}: reading {len(utts)} audio headers for their lengths")
    try:
        return {u: audio_num_samples(table[u], rate) for u in utts}, table
    except AudioError as e:
        raise FeatureError(f"{wav_scp}: {e}") from None


class AudioCrops(torch.utils.data.Dataset):
    """Random crops of labelled utterances' audio (``<data_dir>/wav.scp``: sound files at the
    spectrogram's sample rate), noisy at random; the items of :class:`pyspk.nnet.data.TrainCrops`
    before the spectrogram.

    Items ``(index, epoch, position)`` -> ``(samples (1, 1, n) float32 tensor, label int)`` with
    n = (crop_frames - 1) * hop + n_fft. ``short``: "pad" repeats a short recording's samples end to
    end. ``noise``: a ``NoiseInjector`` whose source is "audio", or None.
    """

    def __init__(self, data_dir, utt2label, crop_frames=301, noise=None, seed=0, short="error",
                 opts=SpectrogramOptions()):
        self.wav_scp = f"{data_dir}/wav.scp"
        samples, table = read_num_samples(self.wav_scp, sorted(utt2label), opts.sample_rate)
        frames = {u: num_frames(n, opts) for u, n in samples.items()}
        utts = select_utterances(utt2label, frames, crop_frames, short, self.wav_scp)
        self.utts, self.paths = PackedStrings(utts), PackedStrings(table[u].strip() for u in utts)
        self.samples = np.array([samples[u] for u in utts], dtype=np.int64)
        self.frames = np.array([frames[u] for u in utts], dtype=np.int64)
        self.labels = np.array([utt2label[u] for u in utts], dtype=np.int64)
        self.crop_frames, self.noise, self.seed, self.opts = crop_frames, noise, seed, opts
        self.crop_samples = (crop_frames - 1) * opts.frame_shift + opts.n_fft

    def __len__(self):
        return len(self.utts)

    def front_end(self):
        """The module that turns a batch of crops on the training device into the network's input."""
        return AudioFrontEnd(self.opts)

    def __getitem__(self, item):
        index, epoch, position = item
        rng = sample_rng(self.seed, epoch, position)
        frames = int(self.frames[index])
        start = int(rng.integers(max(frames, self.crop_frames) - self.crop_frames + 1))
        try:
            if frames < self.crop_frames:
                whole = read_stretch(self.paths[index], 0, int(self.samples[index]))
                tiled = np.resize(whole, (self.crop_frames - 1) * self.opts.frame_shift)
                half = self.opts.n_fft // 2
                crop = np.pad(tiled, (half, self.opts.n_fft - half))
            else:
                first = start * self.opts.frame_shift - self.opts.n_fft // 2
                crop = read_stretch(self.paths[index], first, self.crop_samples)
        except AudioError as e:
            raise FeatureError(f"{self.wav_scp}: {self.utts[index]}: {e}") from None
        if self.noise is not None:
            crop = self.noise.add_to_samples(crop, rng)
        return torch.from_numpy(crop)[None, None], int(self.labels[index])


class AudioFrontEnd(torch.nn.Module):
    """(batch, 1, 1, samples) audio crops -> (batch, 1, bins, frames) log spectrograms, each
    mean and variance normalised over its frames (as ``mean_variance_normalise``), channels-last."""

    def __init__(self, opts=SpectrogramOptions(), eps=1e-5):
        super().__init__()
        self.spectrogram = LogSpectrogram(opts, center=False)
        self.eps = eps

    def forward(self, x):
        spec = self.spectrogram(x.reshape(x.shape[0], x.shape[-1]))  # (batch, bins, frames)
        mean = spec.mean(dim=2, keepdim=True)
        std = spec.std(dim=2, correction=0, keepdim=True)
        std = torch.where(std < self.eps, torch.ones_like(std), std)
        return ((spec - mean) / std)[:, None].contiguous(memory_format=torch.channels_last)
