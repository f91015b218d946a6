"""Checkpoints: one ``torch.save`` dict behind a checksum line, written atomically (temp file + rename).

File layout: ``PYSPK-CHECKPOINT sha256=<64 hex digits>\\n`` followed by the ``torch.save`` bytes (the
payload); :func:`load_checkpoint` verifies the payload's SHA-256, so a file with flipped bytes is an
error naming the file, never a silently different model. Tensors are always loaded onto the CPU; the
caller moves what it needs to its device.

Every checkpoint holds ``arch`` (the ``build_model`` arguments), ``model`` (the network's state),
``objective`` (the ``JointLoss`` arguments: which classification head, its options, the center loss),
``loss`` (the objective's state: the head's weights and the class centres), ``speakers`` (class index
-> speaker id) and ``options`` (the training options that applied). A training checkpoint
(``last.pt``) adds ``optimizer``, ``epoch`` (completed), ``step``, ``best`` and ``rng`` (torch, CUDA,
numpy and python states) for ``--resume``.
"""
import hashlib
import io
import random

import numpy as np
import torch

from pyspk.io.atomic import atomic_write
from pyspk.nnet.losses import load_loss
from pyspk.nnet.vgg import build_model

REQUIRED = ("arch", "objective", "speakers", "model", "loss")
MAGIC = b"PYSPK-CHECKPOINT sha256="


class CheckpointError(ValueError):
    """A missing, unreadable, corrupt or incomplete checkpoint; the message names the file."""


def save_checkpoint(path, state):
    """Write ``state`` to ``path`` with its checksum, atomically (a reader never sees a partial file)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    with atomic_write(path, "wb") as f:
        f.write(MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n")
        f.write(payload)


def load_checkpoint(path):
    """Read and verify a checkpoint written by :func:`save_checkpoint` -> dict of CPU tensors."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    header, _, payload = data.partition(b"\n")
    if not header.startswith(MAGIC) or len(header) != len(MAGIC) + 64:
        raise CheckpointError(f"{path}: not a pyspk checkpoint (no checksum line)")
    if hashlib.sha256(payload).hexdigest().encode() != header[len(MAGIC):]:
        raise CheckpointError(f"{path}: corrupt checkpoint (SHA-256 of the content does not match its checksum)")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ... on bad bytes
        detail = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
        raise CheckpointError(f"{path}: corrupt or not a pyspk checkpoint ({type(e).__name__}: {detail})") from None
    if not isinstance(state, dict) or any(k not in state for k in REQUIRED):
        raise CheckpointError(f"{path}: not a pyspk checkpoint (needs keys {', '.join(REQUIRED)})")
    return state


def build_head(objective):
    """The classification head (a loss module of ``pyspk.nnet.losses``) described by ``objective``."""
    return load_loss(objective["head"], objective["n_classes"], objective["ndims"], **objective["options"])


def load_model_and_head(path, device="cpu"):
    """The network and classifier head of a checkpoint, in eval mode on ``device`` ->
    (model: embeddings from spectrograms, head: ``head.logits(embeddings)`` class scores, speakers:
    class index -> speaker id)."""
    state = load_checkpoint(path)
    try:
        model = build_model(**state["arch"])
        model.load_state_dict(state["model"])
        head = build_head(state["objective"])
        head.load_state_dict({k[len("head."):]: v for k, v in state["loss"].items() if k.startswith("head.")})
    except (RuntimeError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path}: model or head does not match its description ({e})") from None
    model.to(device, memory_format=torch.channels_last).eval()
    return model, head.to(device).eval(), list(state["speakers"])


def rng_state():
    """Every random generator's state, in types ``torch.load(weights_only=True)`` accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": [version, list(internal), gauss_next],
    }


def set_rng_state(state):
    """Restore what :func:`rng_state` saved. The CPU state must be a CPU ByteTensor; CUDA states are
    restored for the devices present only (a run saved on 8 GPUs can resume on 1)."""
    torch.set_rng_state(state["torch"].to("cpu", torch.uint8))
    if state["cuda"] and torch.cuda.is_available():
        for index, cuda_state in enumerate(state["cuda"][:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state.to("cpu", torch.uint8), index)
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
