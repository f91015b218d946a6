"""A trained network used outside the recipe: embeddings, cosine scores and identification of audio.

    import pyspk
    model = pyspk.load_model("exp/cnn_b_joint_veri")
    a = model.embed("a.wav")                      # (ndims,) float32, as the recipe's xvector.scp
    b = model.embed(samples, sample_rate=44100)   # (n,) or (n, channels) samples: downmixed, resampled
    model.score(a, b)                             # cosine similarity
    model.identify("c.wav", k=5)                  # [(speaker, class score), ...] best first

Audio goes through the recipe's path: ``pyspk.io.audio`` (channels averaged, soxr resampling to
16 kHz), ``pyspk.features.spectrogram.log_spectrogram``, per-utterance mean and variance
normalisation, an utterance shorter than the network's receptive minimum repeated to it (as
``steps/extract_embeddings.sh``), then the bottleneck of ``final.pt``. ``export_torchscript``
builds one TorchScript module doing all of it on (batch, samples) waveforms.
"""
import copy
import os

import numpy as np
import torch

from pyspk.device import pick_device
from pyspk.features.spectrogram import SpectrogramOptions, log_spectrogram
from pyspk.features.torch_spectrogram import LogSpectrogram
from pyspk.io.audio import conform_samples, load_audio
from pyspk.nnet.checkpoint import load_model_and_head
from pyspk.nnet.data import pad_batch


def checkpoint_path(exp_dir):
    """``<exp_dir>/final.pt`` (or ``exp_dir`` itself when it is a checkpoint file)."""
    path = exp_dir if os.path.isfile(exp_dir) else os.path.join(exp_dir, "final.pt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{exp_dir}: no final.pt (not a trained network's experiment dir)")
    return path


class SpeakerModel:
    """A trained network with its classifier head and the spectrogram options it was trained on."""

    def __init__(self, model, head, speakers, spectrogram=SpectrogramOptions(), device="cpu"):
        self.model, self.head, self.speakers = model, head, speakers
        self.spectrogram_options = spectrogram
        self.device = torch.device(device)

    @property
    def sample_rate(self):
        """Hz of the audio the network expects (other rates are resampled)."""
        return self.spectrogram_options.sample_rate

    def samples(self, path_or_samples, sample_rate=None):
        """A sound file (any libsndfile format, or a wav.scp command ending in ``|``) or an array of
        samples (n,) / (n, channels) at ``sample_rate`` Hz -> mono float32 (m,) at ``self.sample_rate``."""
        if isinstance(path_or_samples, (str, os.PathLike)):
            return load_audio(os.fspath(path_or_samples), self.sample_rate)[0]
        if sample_rate is None:
            raise ValueError("samples given without their sample_rate")
        samples = np.asarray(path_or_samples)
        if samples.ndim not in (1, 2) or samples.shape[0] == 0:
            raise ValueError(f"samples must be (n,) or (n, channels) with n > 0, got shape {samples.shape}")
        return conform_samples(samples, sample_rate, self.sample_rate)[0]

    @torch.no_grad()
    def _embedding(self, path_or_samples, sample_rate):
        feats = log_spectrogram(self.samples(path_or_samples, sample_rate), self.spectrogram_options)
        if feats.shape[0] < self.model.min_frames:  # as steps/extract_embeddings.sh: repeat to the minimum
            feats = np.resize(feats, (self.model.min_frames, feats.shape[1]))
        x, frames = pad_batch([feats])
        return self.model(x.to(self.device, memory_format=torch.channels_last), frames.to(self.device))

    def embed(self, path_or_samples, sample_rate=None):
        """Embedding (ndims,) float32 of one utterance (see :meth:`samples` for the input)."""
        return self._embedding(path_or_samples, sample_rate)[0].float().cpu().numpy()

    def score(self, a, b):
        """Cosine similarity of two utterances: embeddings (1-d arrays) or sound files."""
        a, b = (self.embed(x) if isinstance(x, (str, os.PathLike)) else np.asarray(x, dtype=np.float64)
                for x in (a, b))
        if a.shape != b.shape or a.ndim != 1:
            raise ValueError(f"embeddings must be 1-d of one length, got {a.shape} and {b.shape}")
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    @torch.no_grad()
    def identify(self, path_or_samples, k=5, sample_rate=None):
        """The ``k`` training speakers the classifier head scores highest for one utterance ->
        [(speaker, class score), ...], best first (equal scores: lower class index first)."""
        scores = self.head.logits(self._embedding(path_or_samples, sample_rate))[0].float().cpu().numpy()
        best = np.argsort(-scores, kind="stable")[:k]
        return [(self.speakers[i], float(scores[i])) for i in best]


def load_model(exp_dir, device="cpu"):
    """The trained network of an experiment dir (``<exp_dir>/final.pt``, or a checkpoint path) ->
    :class:`SpeakerModel` on ``device`` ("cpu", "cuda", "auto")."""
    device = pick_device(device)
    model, head, speakers = load_model_and_head(checkpoint_path(exp_dir), device)
    return SpeakerModel(model, head, speakers, SpectrogramOptions(), device)


class WaveformEmbedder(torch.nn.Module):
    """(batch, samples) float waveforms at the model's rate -> (batch, ndims) embeddings: the log
    spectrogram (``LogSpectrogram``, centred as the stored features), repetition to the network's
    minimum frames, per-utterance mean and variance normalisation (eps as
    ``mean_variance_normalise``), then the network. Every waveform of a batch has the same length."""

    def __init__(self, spectrogram, network, min_frames: int, eps: float = 1e-5):
        super().__init__()
        self.spectrogram, self.network = spectrogram, network
        self.min_frames, self.eps = min_frames, eps

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        spec = self.spectrogram(waveforms)                     # (batch, bins, frames)
        frames = spec.shape[2]
        if frames < self.min_frames:
            spec = spec.index_select(2, torch.arange(self.min_frames, device=spec.device) % frames)
        mean = spec.mean(dim=2, keepdim=True)
        std = spec.std(dim=2, unbiased=False, keepdim=True)
        std = torch.where(std < self.eps, torch.ones_like(std), std)
        return self.network(((spec - mean) / std).unsqueeze(1))


def export_torchscript(speaker_model):
    """A ``torch.jit.ScriptModule`` (on the CPU) of :class:`WaveformEmbedder` for ``speaker_model``.

    The spectrogram and the network are traced (no shape-dependent branches on that path: any
    length traces the same graph) and the wrapper, with its short-input branch, is scripted."""
    opts = speaker_model.spectrogram_options
    network = copy.deepcopy(speaker_model.model).to("cpu").eval()
    frames = max(network.min_frames, 200)
    example = torch.zeros(1, (frames - 1) * opts.frame_shift)
    spectrogram = LogSpectrogram(opts, center=True).eval()
    with torch.no_grad():
        traced_spec = torch.jit.trace(spectrogram, example)
        traced_net = torch.jit.trace(network, torch.randn(1, 1, opts.n_fft // 2 + 1, frames))
    return torch.jit.script(WaveformEmbedder(traced_spec, traced_net, network.min_frames))
