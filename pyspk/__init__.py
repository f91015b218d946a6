"""pyspk: a Kaldi-style speaker recognition toolkit (Yadav & Rai, Interspeech 2018, reproduced).

``pyspk.load_model(exp_dir)`` gives a trained network for use on audio (``pyspk.api``); it is
imported on first use, so that the recipe's commands do not load torch for nothing.
"""
__all__ = ["load_model"]


def __getattr__(name):
    if name == "load_model":
        from pyspk.api import load_model
        return load_model
    raise AttributeError(f"module 'pyspk' has no attribute {name!r}")
