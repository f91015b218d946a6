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

from pyspk.backend.gmm import DiagGmm, GmmError, GmmModel, GmmStats, resolve_device

DTYPE = torch.float64


@dataclasses.dataclass
class FullGmm(GmmModel):
    """weights (C,), means (C, D), covars (C, D, D); float64."""

    FIELDS = ("weights", "means", "covars")
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

    check_dim = DiagGmm.check_dim

    def scorer(self, device="cpu"):
        return FullGmmScorer(self, device)

    def empty_stats(self):
        return FullGmmStats.empty(self.num_gauss, self.dim)

    def updated(self, stats, min_eigenvalue=1e-3, min_count=1e-3):
        """-> (ML re-estimate from ``stats``, number of components left unchanged); see ``update``."""
        return update(self, stats, min_eigenvalue, min_count)


def ubm_from_arrays(arrays, where):
    """A diagonal or full-covariance GMM from its named arrays (``variances`` or ``covars``)."""
    return (FullGmm if "covars" in arrays else DiagGmm).from_arrays(arrays, where)


def load_ubm(path):
    """Read a diagonal or full-covariance GMM file; errors name the file."""
    try:
        with np.load(path) as z:
            return ubm_from_arrays(z, path)
    except (OSError, KeyError, ValueError) as e:
        if isinstance(e, GmmError):
            raise
        raise GmmError(f"{path}: not a GMM file ({type(e).__name__}: {e})") from None


class _Quadratic:
    """Frames (T, D) -> their products x_i x_j, i <= j: (T, D(D+1)/2); and back to (.., D, D)."""

    def __init__(self, dim, device):
        self.dim = dim
        self.rows, self.cols = torch.triu_indices(dim, dim, device=device)

    def features(self, x):
        return x[:, self.rows] * x[:, self.cols]

    def unpack(self, packed):
        out = packed.new_zeros(packed.shape[:-1] + (self.dim, self.dim))
        out[..., self.rows, self.cols] = packed
        out[..., self.cols, self.rows] = packed
        return out


class FullGmmScorer:
    """Per-component log-likelihoods log(w_c N(x; mu_c, Sigma_c)) of frames (same interface as
    ``GmmScorer``)."""

    def __init__(self, gmm, device="cpu"):
        self.gmm = gmm
        self.device = resolve_device(device)
        self.dtype = DTYPE
        self.quad = _Quadratic(gmm.dim, self.device)
        prec = np.linalg.inv(gmm.covars)                                          # (C, D, D)
        _, logdet = np.linalg.slogdet(gmm.covars)
        with np.errstate(divide="ignore"):
            log_w = np.log(gmm.weights)
        lin = np.einsum("cij,cj->ci", prec, gmm.means)                            # P mu
        const = log_w - 0.5 * (gmm.dim * math.log(2 * math.pi) + logdet + np.einsum("ci,ci->c", lin, gmm.means))
        rows, cols = self.quad.rows.cpu().numpy(), self.quad.cols.cpu().numpy()
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
        return torch.cat([self.quad.features(x), x, ones], dim=1) @ self.weight


class FullGmmStats(GmmStats):
    """:class:`pyspk.backend.gmm.GmmStats` with full second-order sums (C, D, D); float64.
    Filled by ``pyspk.backend.gmm.accumulate``; add jobs' stats with ``+=``."""

    @classmethod
    def empty(cls, num_gauss, dim):
        return cls(np.zeros(num_gauss), np.zeros((num_gauss, dim)), np.zeros((num_gauss, dim, dim)))

    def add_chunk(self, pt, x):
        """Add posteriors pt (C, T) and frames x (T, D), float64 tensors."""
        quad = _Quadratic(x.shape[1], x.device)
        self.zero += pt.sum(dim=1).cpu().numpy()
        self.first += (pt @ x).cpu().numpy()
        self.second += quad.unpack(pt @ quad.features(x)).cpu().numpy()


def update(gmm, stats, min_eigenvalue=1e-3, min_count=1e-3):
    """ML re-estimation -> (new FullGmm, number of components left unchanged). Covariance
    eigenvalues are floored at ``min_eigenvalue``; a component with occupancy below ``min_count``
    keeps its mean and covariance."""
    occ = stats.zero
    ok = occ >= min_count
    means, covars = gmm.means.copy(), gmm.covars.copy()
    means[ok] = stats.first[ok] / occ[ok, None]
    cov = stats.second[ok] / occ[ok, None, None] - means[ok][:, :, None] * means[ok][:, None, :]
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.transpose(0, 2, 1)))
    covars[ok] = np.einsum("cij,cj,ckj->cik", vecs, np.maximum(vals, min_eigenvalue), vecs)
    weights = np.maximum(occ / max(occ.sum(), 1e-300), 1e-10)
    return FullGmm(weights / weights.sum(), means, covars), int(np.count_nonzero(~ok))
