"""VGG speaker networks A and B of Yadav & Rai (Interspeech 2018), Table 1.

The whole family is one table of layer configs and one builder, as torchvision's ``vgg.py``:
an int is a 3x3 Conv(stride 1, padding 1, no bias) -> ReLU -> BatchNorm block with that many
channels, ``"M3"`` the first max-pool (kernel 3, stride 2), ``"M"`` a max-pool (kernel 2, stride 2).
The trunk's output is averaged over the whole remaining frequency x time map (512 values), then
dropout -> FC-ndims (the bottleneck, i.e. the embedding). The classifier (the paper's dropout ->
FC-n_classes) belongs to the training loss (``pyspk.nnet.losses``, as in voxceleb_trainer and WeSpeaker),
so a margin loss can replace it without touching the network. Trunk + bottleneck + the softmax head
have the paper's 9.449 M (A) and 9.634 M (B) parameters for 1,251 classes (no conv bias).

Input: ``(batch, 1, freq_bins, frames)`` log power spectrograms (161 bins; 301 frames for a 3 s
training crop, any length >= ``MIN_FRAMES`` at inference). A batch of utterances of different
lengths is zero-padded on the time axis and given ``lengths`` (frames): padded frames are masked
after every block, so each utterance's output equals the one it gets alone (floating point aside).
"""
import torch
from torch import nn

CONFIGS = {
    "A": [64, "M3", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M3", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
}
POOLS = {"M3": (3, 2), "M": (2, 2)}  # name -> (kernel, stride)


def _pooled_length(length, kernel, stride):
    """Frames after a max-pool without padding (floor mode)."""
    return (length - kernel) // stride + 1


def min_frames(config):
    """Shortest input (frames) that leaves at least one frame after every pool of ``config``."""
    frames = 1
    for item in reversed(CONFIGS[config.upper()]):
        if item in POOLS:
            kernel, stride = POOLS[item]
            frames = (frames - 1) * stride + kernel
    return frames


class VGGSpeaker(nn.Module):
    """VGG trunk + average pooling + FC bottleneck.

    ``forward(x, lengths=None)`` = ``embed(x, lengths)`` -> embedding (batch, ndims).
    """

    def __init__(self, config="B", ndims=128, width=1.0, dropout=0.4, in_channels=1):
        super().__init__()
        config = config.upper()
        if config not in CONFIGS:
            raise ValueError(f"unknown network config {config!r}; known: {sorted(CONFIGS)}")
        self.config = config
        self.min_frames = min_frames(config)
        layers, channels = [], in_channels
        for item in CONFIGS[config]:
            if item in POOLS:
                kernel, stride = POOLS[item]
                layers.append(nn.MaxPool2d(kernel, stride))
            else:
                out = max(1, round(item * width))
                layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.ReLU(inplace=True), nn.BatchNorm2d(out)]
                channels = out
        self.features = nn.Sequential(*layers)
        self.embed_dropout = nn.Dropout(dropout)
        self.bottleneck = nn.Linear(channels, ndims)
        self.ndims = ndims

    def embed(self, x, lengths=None):
        """Bottleneck embedding (batch, ndims) of ``x`` (batch, 1, bins, frames).

        ``lengths``: optional (batch,) int tensor of valid frames per item (the rest is padding).
        """
        if x.shape[-1] < self.min_frames:
            raise ValueError(f"input has {x.shape[-1]} frames; network {self.config} needs >= {self.min_frames}")
        if lengths is None:
            h = self.features(x)
            pooled = h.float().mean(dim=(2, 3))
        else:
            h, lengths = self._masked_features(x, lengths.to(x.device))
            valid = lengths.clamp(min=1).to(torch.float32) * h.shape[2]
            pooled = h.float().sum(dim=(2, 3)) / valid[:, None]
        return self.bottleneck(self.embed_dropout(pooled.to(h.dtype)))

    def _masked_features(self, x, lengths):
        """Run the trunk with frames >= length zeroed after every BatchNorm and pool, i.e. wherever a
        conv or pool could see them: the zeros then act as the conv padding an utterance gets alone."""
        h = x * self._mask(lengths, x.shape[-1], x.dtype)
        for layer in self.features:
            h = layer(h)
            if isinstance(layer, nn.MaxPool2d):
                lengths = _pooled_length(lengths, layer.kernel_size, layer.stride)
            if isinstance(layer, (nn.MaxPool2d, nn.BatchNorm2d, nn.SyncBatchNorm)):
                h = h * self._mask(lengths, h.shape[-1], h.dtype)
        return h, lengths

    @staticmethod
    def _mask(lengths, frames, dtype):
        """(batch, 1, 1, frames) mask: 1 for frames < length, else 0."""
        return (torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]).to(dtype)[:, None, None, :]

    def forward(self, x, lengths=None):
        return self.embed(x, lengths)


def build_model(config="B", ndims=128, width=1.0, dropout=0.4):
    """Network ``config`` ("A" or "B", any case) with an ``ndims``-d bottleneck, channels scaled by
    ``width`` (1.0 = the paper's network), ``dropout`` before the bottleneck."""
    return VGGSpeaker(config, ndims=ndims, width=width, dropout=dropout)


def count_parameters(model):
    """Trainable parameters (conv, BatchNorm scale/shift and FC weights and biases)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
