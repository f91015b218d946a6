"""Full-covariance GMMs: the refinement of the diagonal UBM that Kaldi's voxceleb/v1 aligns i-vector
statistics with (``gmm-global-to-fgmm`` + ``fgmm-global-acc-stats`` / ``fgmm-global-est``).

Log-likelihoods are one matrix product of quadratic features: with P_c = inverse covariance,
log(w_c N(x)) = k_c + x' P_c mu_c - 1/2 sum_{i<=j} (2 - [i = j]) P_c,ij x_i x_j, so a frame's
features are its D(D+1)/2 products x_i x_j (i <= j), x and 1. Everything is float64.
A model file is an ``.npz`` with ``weights`` (C,), ``means`` (C, D) and ``covars`` (C, D, D).
"""
import dataclasses
import math

import numpy as np
import torch

from pyspk.backend.gmm import DiagGmm, GmmError, GmmModel, read_gmm_file
from pyspk.backend.gmm_stats import FullGmmStats
from pyspk.backend.symmetric import PackedSymmetric
from pyspk.device import pick_device

DTYPE = torch.float64


@dataclasses.dataclass
class FullGmm(GmmModel):
    """weights (C,), means (C, D), covars (C, D, D); float64."""

    FIELDS = ("weights", "means", "covars")
    KIND = "full-covariance GMM"
    weights: np.ndarray
    means: np.ndarray
    covars: np.ndarray

    @property
    def variances(self):
        """(C, D) diagonals of the covariances."""
        return np.diagonal(self.covars, axis1=1, axis2=2).copy()

    @classmethod
    def from_diag(cls, gmm):
        """The full-covariance GMM equal to a diagonal one (``gmm-global-to-fgmm``)."""
        covars = np.zeros((gmm.num_gauss, gmm.dim, gmm.dim))
        idx = np.arange(gmm.dim)
        covars[:, idx, idx] = gmm.variances
        return cls(gmm.weights.copy(), gmm.means.copy(), covars)

    def check(self, where="GMM"):
        c, d = self.means.shape
        if self.weights.shape != (c,) or self.covars.shape != (c, d, d):
            raise GmmError(f"{where}: inconsistent shapes weights {self.weights.shape}, "
                           f"means {self.means.shape}, covars {self.covars.shape}")
        if np.any(np.linalg.eigvalsh(self.covars)[:, 0] <= 0) or np.any(self.weights < 0):
            raise GmmError(f"{where}: covariances must be positive definite and weights >= 0")

    def scorer(self, device="cpu"):
        return FullGmmScorer(self, device)

    def empty_stats(self):
        return FullGmmStats.empty(self.num_gauss, self.dim)

    def reestimated(self, stats, min_eigenvalue=1e-3, min_count=1e-3):
        """ML re-estimation from ``stats`` (FullGmmStats) -> (new FullGmm, number of components left
        unchanged). Covariance eigenvalues are floored at ``min_eigenvalue``; a component with
        occupancy below ``min_count`` keeps its mean and covariance."""
        occ = stats.zero
        ok = occ >= min_count
        means, covars = self.means.copy(), self.covars.copy()
        means[ok] = stats.first[ok] / occ[ok, None]
        cov = stats.second[ok] / occ[ok, None, None] - means[ok][:, :, None] * means[ok][:, None, :]
        vals, vecs = np.linalg.eigh(0.5 * (cov + cov.transpose(0, 2, 1)))
        covars[ok] = np.einsum("cij,cj,ckj->cik", vecs, np.maximum(vals, min_eigenvalue), vecs)
        weights = np.maximum(occ / max(occ.sum(), 1e-300), 1e-10)
        return FullGmm(weights / weights.sum(), means, covars), int(np.count_nonzero(~ok))


def ubm_from_arrays(arrays, where):
    """A diagonal or full-covariance GMM from its named arrays (``variances`` or ``covars``)."""
    return (FullGmm if "covars" in arrays else DiagGmm).from_arrays(arrays, where)


def load_ubm(path):
    """Read a diagonal or full-covariance GMM file; errors name the file."""
    return read_gmm_file(path, ubm_from_arrays, "GMM")


class FullGmmScorer:
    """Per-component log-likelihoods log(w_c N(x; mu_c, Sigma_c)) of frames (same interface as
    ``GmmScorer``)."""

    def __init__(self, gmm, device="cpu"):
        self.gmm = gmm
        self.device = pick_device(device)
        self.dtype = DTYPE
        self.packed = PackedSymmetric(gmm.dim, self.device)
        prec = np.linalg.inv(gmm.covars)                                          # (C, D, D)
        _, logdet = np.linalg.slogdet(gmm.covars)
        with np.errstate(divide="ignore"):
            log_w = np.log(gmm.weights)
        lin = np.einsum("cij,cj->ci", prec, gmm.means)                            # P mu
        const = log_w - 0.5 * (gmm.dim * math.log(2 * math.pi) + logdet + np.einsum("ci,ci->c", lin, gmm.means))
        rows, cols = self.packed.rows.cpu().numpy(), self.packed.cols.cpu().numpy()
        quad = -0.5 * prec[:, rows, cols] * np.where(rows == cols, 1.0, 2.0)      # (C, P)
        w = np.concatenate([quad, lin, const[:, None]], axis=1).T                 # (P + D + 1, C)
        self.weight = torch.as_tensor(w, dtype=DTYPE, device=self.device)

    def to_tensor(self, frames):
        x = torch.as_tensor(np.asarray(frames), device=self.device).to(DTYPE)
        self.gmm.check_dim(x.shape[1], "the features")
        return x

    def log_likelihoods(self, x):
        """x: (T, D) tensor -> (T, C)."""
        ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
        return torch.cat([self.packed.outer_products(x), x, ones], dim=1) @ self.weight
