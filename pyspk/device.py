"""The torch device a command runs on, for every part of the package (CNN, GMM, i-vectors)."""
import torch


def pick_device(name="auto"):
    """``"auto"`` -> ``cuda`` when a GPU is visible, else ``cpu``; any other name (``cpu``, ``cuda``,
    ``cuda:1``) -> that device. Returns a ``torch.device``."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
