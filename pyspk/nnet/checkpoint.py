"""Checkpoints: one ``torch.save`` dict, written atomically (temp file in the same dir + rename).

A training checkpoint (``last.pt``) holds everything a resumed run needs: ``model``, ``optimizer``,
``loss`` (the class centres), ``epoch`` (completed), ``step``, ``best_accuracy``, ``rng`` (torch,
CUDA, numpy and python states), plus what every checkpoint holds: ``arch`` (the ``build_model``
arguments), ``speakers`` (class index -> speaker id) and ``options`` (the training options).
"""
import random

import numpy as np
import torch

from pyspk.io.atomic import atomic_write

REQUIRED = ("arch", "speakers", "model")


class CheckpointError(ValueError):
    """A missing, unreadable or incomplete checkpoint; the message names the file."""


def save_checkpoint(path, state):
    """Write ``state`` to ``path`` atomically (a reader never sees a partial file)."""
    with atomic_write(path, "wb") as f:
        torch.save(state, f)


def load_checkpoint(path, map_location="cpu"):
    """Read a checkpoint written by :func:`save_checkpoint` -> dict; clear errors otherwise."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ... on bad bytes
        detail = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
        raise CheckpointError(f"{path}: corrupt or not a pyspk checkpoint ({type(e).__name__}: {detail})") from None
    if not isinstance(state, dict) or any(k not in state for k in REQUIRED):
        raise CheckpointError(f"{path}: not a pyspk checkpoint (needs keys {', '.join(REQUIRED)})")
    return state


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
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
