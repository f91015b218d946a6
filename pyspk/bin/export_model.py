"""Export a trained network as one TorchScript module that embeds raw waveforms:

    python -m pyspk.bin.export_model <exp-dir> <out.pt>

The module maps (batch, samples) float32 waveforms at 16 kHz (samples in [-1, 1), one length per
batch) to (batch, ndims) embeddings: log spectrogram, per-utterance normalisation and the network
(``pyspk.api.WaveformEmbedder``), equal to the recipe's embedding of the same audio. Load it with
``torch.jit.load(out)``; no pyspk needed. Written atomically.
"""
import dataclasses
import logging

import torch

from pyspk.api import export_torchscript, load_model
from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.atomic import atomic_write

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Write a TorchScript module: 16 kHz waveforms (batch, samples) -> embeddings (batch, ndims)."""


def main(argv=None):
    setup_logging()
    _, args = parse_options(Options, argv, positional=["exp_dir", "out"])
    model = load_model(args.exp_dir, "cpu")
    module = export_torchscript(model)
    with atomic_write(args.out, "wb") as f:
        torch.jit.save(module, f)
    logger.info(f"export_model: {args.exp_dir} -> {args.out} (waveforms at {model.sample_rate} Hz -> "
                f"{model.model.ndims}-d embeddings)")


if __name__ == "__main__":
    run_command(main)
