"""EM statistics of a GMM over frames: top-C posteriors (the E-step) and the posterior-weighted sums
the M-step re-estimates from, for diagonal and full-covariance GMMs.

Frames are (T, D) matrices. Log-likelihoods come from a model's scorer (``DiagGmm.scorer``,
``FullGmm.scorer``); the sums are computed in float64 (variances are differences of moments).
"""
import dataclasses

import numpy as np
import torch

from pyspk.backend.em_stats import EmStats
from pyspk.backend.symmetric import PackedSymmetric

CHUNK_FRAMES = 16384  # frames per E-step block: bounds the (frames, C) posterior matrix in memory


def top_c_posteriors(ll, top_c):
    """ll: (T, C) log-likelihoods -> (T, C) posteriors, restricted to each frame's top-C components
    (renormalised; ``top_c`` <= 0 or >= C keeps all) and the (T,) log-likelihood of each frame."""
    if 0 < top_c < ll.shape[1]:
        val, idx = torch.topk(ll, top_c, dim=1)
        frame_ll = torch.logsumexp(val, dim=1)
        post = torch.zeros_like(ll).scatter_(1, idx, torch.exp(val - frame_ll[:, None]))
    else:
        frame_ll = torch.logsumexp(ll, dim=1)
        post = torch.exp(ll - frame_ll[:, None])
    return post, frame_ll


@dataclasses.dataclass
class GmmStats(EmStats):
    """Sufficient statistics of a diagonal GMM: occupancies (C,), first (C, D) and second (C, D) order
    sums over frames, total log-likelihood (nats) and frame count; float64. Add jobs' stats with ``+=``."""

    WHAT = "GMM statistics"
    zero: np.ndarray
    first: np.ndarray
    second: np.ndarray
    loglike: float = 0.0
    frames: int = 0

    @classmethod
    def empty(cls, num_gauss, dim):
        return cls(np.zeros(num_gauss), np.zeros((num_gauss, dim)), np.zeros((num_gauss, dim)))

    def add_chunk(self, pt, x):
        """Add posteriors pt (C, T) and frames x (T, D), float64 tensors (frame counts and
        log-likelihoods are added by ``accumulate``)."""
        self.zero += pt.sum(dim=1).cpu().numpy()
        self.first += (pt @ x).cpu().numpy()
        self.second += (pt @ (x * x)).cpu().numpy()


@dataclasses.dataclass
class FullGmmStats(GmmStats):
    """:class:`GmmStats` with full second-order sums (C, D, D); float64."""

    WHAT = "GMM statistics"

    @classmethod
    def empty(cls, num_gauss, dim):
        return cls(np.zeros(num_gauss), np.zeros((num_gauss, dim)), np.zeros((num_gauss, dim, dim)))

    def add_chunk(self, pt, x):
        """Add posteriors pt (C, T) and frames x (T, D), float64 tensors."""
        packed = PackedSymmetric(x.shape[1], x.device)
        self.zero += pt.sum(dim=1).cpu().numpy()
        self.first += (pt @ x).cpu().numpy()
        self.second += packed.unpack(pt @ packed.outer_products(x)).cpu().numpy()


def accumulate(scorer, frames, stats, top_c=0):
    """Add the EM statistics of ``frames`` (T, D) under ``scorer``'s model to ``stats`` (in place).

    ``top_c`` > 0 restricts each frame's posteriors to its top-C Gaussians. Returns the frames'
    total log-likelihood (nats).
    """
    total = 0.0
    x_all = scorer.to_tensor(frames)
    for start in range(0, x_all.shape[0], CHUNK_FRAMES):
        x = x_all[start:start + CHUNK_FRAMES]
        post, frame_ll = top_c_posteriors(scorer.log_likelihoods(x), top_c)
        stats.add_chunk(post.T.double(), x.double())
        total += float(frame_ll.double().sum())
    stats.loglike += total
    stats.frames += x_all.shape[0]
    return total
