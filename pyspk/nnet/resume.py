"""What ``--resume`` may change: options that would not fit the saved state are refused, the others apply.

Refused (the checkpoint's weights or state could not mean the same thing): the network, its size and
width, the classification loss, and switching the center loss on or off. Everything else (learning
rate and its schedule, weight decay, margins, lambda, epochs, augmentation, ...) applies from the next
step on; the trainer records each applied change in the checkpoint (``resumes``) and the log.
"""
from pyspk.nnet.checkpoint import CheckpointError

REFUSED = ("network", "ndims", "width", "loss")


def _same(value):
    """A value in the form two options are compared in: numbers as floats, names in upper case."""
    return float(value) if isinstance(value, (int, float)) else str(value).upper()


def resume_changes(path, saved, current):
    """``saved``/``current``: training options (dicts) of the checkpoint at ``path`` and of this run ->
    ``{option: [old, new]}`` of the changes that apply; a refused change raises :class:`CheckpointError`
    naming the option, both values and the file."""
    refused = [key for key in REFUSED if _same(saved.get(key)) != _same(current[key])]
    if (saved.get("center_loss_weight", 0) > 0) != (current["center_loss_weight"] > 0):
        refused.append("center_loss_weight")
    if refused:
        detail = "; ".join(f"--{k.replace('_', '-')} was {saved.get(k)!r}, now {current[k]!r}" for k in refused)
        raise CheckpointError(f"{path}: cannot resume with changed options ({detail}): "
                              f"use the saved values or train into a new directory")
    return {key: [saved.get(key), value] for key, value in current.items()
            if key != "resume" and saved.get(key) != value}
