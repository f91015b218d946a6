"""Checkpoint averaging: the element-wise mean of the model states of the last epochs (as in WeSpeaker's
``average_model.py``); a cheap ensemble that smooths the end of training."""
import torch


def average_states(states):
    """Mean of state dicts with the same keys and shapes -> a new state dict.

    Floating-point tensors (weights, BatchNorm statistics, class centres) are averaged in float64 and
    cast back; integer ones (BatchNorm's ``num_batches_tracked``) are taken from the last state.
    """
    if not states:
        raise ValueError("no states to average")
    keys = list(states[-1])
    for i, state in enumerate(states):
        if list(state) != keys:
            raise ValueError(f"state {i} has keys {sorted(set(state) ^ set(keys))} the others do not")
    averaged = {}
    for key in keys:
        last = states[-1][key]
        if last.is_floating_point():
            averaged[key] = (sum(s[key].double() for s in states) / len(states)).to(last.dtype)
        else:
            averaged[key] = last.clone()
    return averaged
