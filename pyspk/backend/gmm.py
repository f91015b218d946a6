"""Diagonal-covariance GMMs (the GMM-UBM baseline's UBM): the model, its file, its per-component
log-likelihoods and its ML re-estimation (the M-step).

Frames are float32 matrices (frames, dims). Log-likelihoods run in torch (CPU or GPU, ``device``), in
``compute_dtype`` (float32 by default: accurate to ~1e-5 nats, plenty for posteriors); the
parameters are float64. A model file is an ``.npz`` with ``weights`` (C,), ``means`` (C, D) and
``variances`` (C, D). Statistics: :mod:`pyspk.backend.gmm_stats`; starts: :mod:`pyspk.backend.gmm_init`.
"""
import dataclasses
import math

import numpy as np
import torch

from pyspk.backend.gmm_stats import GmmStats
from pyspk.device import pick_device
from pyspk.io.atomic import atomic_write


class GmmError(ValueError):
    """An unreadable or inconsistent GMM file, or features that do not match the model."""


def read_gmm_file(path, from_arrays, kind):
    """Open the .npz model file ``path`` and build a model with ``from_arrays(arrays, path)``; a file
    that is not one raises GmmError naming it and the ``kind`` of model expected."""
    try:
        with np.load(path) as z:
            return from_arrays(z, path)
    except (OSError, KeyError, ValueError) as e:
        if isinstance(e, GmmError):
            raise
        raise GmmError(f"{path}: not a {kind} file ({type(e).__name__}: {e})") from None


class GmmModel:
    """What diagonal and full-covariance GMMs share: ``means`` (C, D), and a model file that is one
    .npz of named float64 arrays, the dataclass fields ``FIELDS``."""

    FIELDS = ()

    @property
    def num_gauss(self):
        return self.means.shape[0]

    @property
    def dim(self):
        return self.means.shape[1]

    def arrays(self):
        """The arrays a model file holds, by name."""
        return {k: getattr(self, k) for k in self.FIELDS}

    @classmethod
    def from_arrays(cls, arrays, where):
        model = cls(*(np.asarray(arrays[k], dtype=np.float64) for k in cls.FIELDS))
        model.check(where)
        return model

    def save(self, path):
        with atomic_write(path, "wb") as f:
            np.savez(f, **self.arrays())

    @classmethod
    def load(cls, path):
        """Read a model file of this kind; errors name the file."""
        return read_gmm_file(path, cls.from_arrays, cls.KIND)

    def check_dim(self, dim, what):
        """Raise a clear error when features of ``dim`` dimensions cannot be scored by this model."""
        if dim != self.dim:
            raise GmmError(f"model has dimension {self.dim} but {what} have dimension {dim} "
                           f"(check --add-deltas: 13 MFCC give 39 with deltas)")


@dataclasses.dataclass
class DiagGmm(GmmModel):
    """weights (C,), means (C, D), variances (C, D); all float64."""

    FIELDS = ("weights", "means", "variances")
    KIND = "diagonal GMM"
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def scorer(self, device="cpu"):
        return GmmScorer(self, device)

    def empty_stats(self):
        return GmmStats.empty(self.num_gauss, self.dim)

    def reestimated(self, stats, min_variance=1e-3, min_count=1e-3):
        """ML re-estimation from ``stats`` (GmmStats) -> (new DiagGmm, number of components left
        unchanged). Variances are floored at ``min_variance``; a component with occupancy below
        ``min_count`` frames keeps its mean and variance (its weight becomes its tiny share)."""
        occ = stats.zero
        ok = occ >= min_count
        means = self.means.copy()
        variances = self.variances.copy()
        means[ok] = stats.first[ok] / occ[ok, None]
        variances[ok] = np.maximum(stats.second[ok] / occ[ok, None] - means[ok] ** 2, min_variance)
        weights = np.maximum(occ / max(occ.sum(), 1e-300), 1e-10)
        return DiagGmm(weights / weights.sum(), means, variances), int(np.count_nonzero(~ok))

    def check(self, where="GMM"):
        c, d = self.means.shape
        if self.weights.shape != (c,) or self.variances.shape != (c, d):
            raise GmmError(f"{where}: inconsistent shapes weights {self.weights.shape}, "
                           f"means {self.means.shape}, variances {self.variances.shape}")
        if not (np.all(self.variances > 0) and np.all(self.weights >= 0)):
            raise GmmError(f"{where}: variances must be > 0 and weights >= 0")


class GmmScorer:
    """Per-component log-likelihoods log(w_c N(x; mu_c, diag var_c)) of frames, as one matrix product.

    ``[x*x, x, 1] @ W`` with W = [-0.5/var; mean/var; log w - 0.5 sum(log 2 pi var + mean^2/var)].
    """

    def __init__(self, gmm, device="cpu", compute_dtype=torch.float32):
        self.gmm = gmm
        self.device = pick_device(device)
        self.dtype = compute_dtype
        prec = 1.0 / gmm.variances
        with np.errstate(divide="ignore"):
            log_w = np.log(gmm.weights)
        const = log_w - 0.5 * np.sum(np.log(2 * math.pi * gmm.variances) + gmm.means ** 2 * prec, axis=1)
        w = np.concatenate([-0.5 * prec, gmm.means * prec, const[:, None]], axis=1).T  # (2D+1, C)
        self.weight = torch.as_tensor(w, dtype=compute_dtype, device=self.device)

    def to_tensor(self, frames):
        x = torch.as_tensor(np.asarray(frames), device=self.device).to(self.dtype)
        self.gmm.check_dim(x.shape[1], "the features")
        return x

    def log_likelihoods(self, x):
        """x: (T, D) tensor -> (T, C) per-component log-likelihoods (log weight included)."""
        ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
        return torch.cat([x * x, x, ones], dim=1) @ self.weight
