"""i-vectors (Dehak et al. 2011): Baum-Welch statistics from a diagonal UBM, total-variability matrix
trained by EM, i-vector extraction as the posterior mean of the latent factor.

Model, per Gaussian c of a UBM with C components in D dimensions and i-vector dimension R:
the utterance supervector mean is mu_c + T_c w, w ~ N(0, I_R), frames aligned to c have residual
covariance diag(sigma_c). The alignment (posteriors, top-C selection) comes from the UBM and is fixed.

Per utterance: zeroth-order stats N (C,), centred first-order F~ (C, D) = sum_t g_ct (x_t - mu_c), and
centred second-order diagonal S~ (C, D) (:mod:`pyspk.backend.baum_welch`). Posterior of w: precision L = I + sum_c N_c T_c' S_c^-1 T_c,
mean w = L^-1 sum_c T_c' S_c^-1 F~_c. EM accumulates A_c = sum_u N_c (L^-1 + w w') and
Cc = sum_u F~_c w', then T_c = Cc A_c^-1 and sigma_c = diag(S~_c - T_c Cc') / N_c.
The objective (log-likelihood of the statistics given the alignment, summed over utterances) never
decreases under these updates. Symmetric R x R matrices are stored packed (upper triangle, R(R+1)/2).

The alignment may come from a diagonal or a full-covariance UBM; the residual covariances are
diagonal either way. Computation is in torch float64 on ``device``; a model file is an ``.npz``
holding the UBM (``ubm_weights``, ``ubm_means``, ``ubm_variances`` or ``ubm_covars``), ``T``
(C, D, R) and ``sigma`` (C, D).
"""
import dataclasses
import math

import numpy as np
import torch

from pyspk.backend.em_stats import EmStats
from pyspk.backend.full_gmm import ubm_from_arrays
from pyspk.backend.symmetric import PackedSymmetric
from pyspk.device import pick_device
from pyspk.io.atomic import atomic_write

DTYPE = torch.float64


class IvectorError(ValueError):
    """An unreadable or inconsistent i-vector extractor or statistics file."""


@dataclasses.dataclass
class IvectorExtractor:
    """ubm (DiagGmm or FullGmm, C x D), T (C, D, R) and sigma (C, D), float64 numpy."""

    ubm: object
    T: np.ndarray
    sigma: np.ndarray

    @property
    def ivector_dim(self):
        return self.T.shape[2]

    @classmethod
    def init_random(cls, ubm, ivector_dim, scale=1.0, seed=0):
        """T_c = scale * sqrt(var_c) * N(0, 1) entries, sigma_c = UBM variances."""
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((ubm.num_gauss, ubm.dim, ivector_dim))
        return cls(ubm, scale * np.sqrt(ubm.variances)[:, :, None] * noise, ubm.variances.copy())

    def save(self, path):
        with atomic_write(path, "wb") as f:
            np.savez(f, T=self.T, sigma=self.sigma, **{"ubm_" + k: v for k, v in self.ubm.arrays().items()})

    @classmethod
    def load(cls, path):
        try:
            with np.load(path) as z:
                ubm = ubm_from_arrays({k[4:]: z[k] for k in z.files if k.startswith("ubm_")}, path)
                model = cls(ubm, z["T"].astype(np.float64), z["sigma"].astype(np.float64))
        except (OSError, KeyError, ValueError) as e:
            raise IvectorError(f"{path}: not an i-vector extractor file ({type(e).__name__}: {e})") from None
        if model.T.shape[:2] != ubm.means.shape or model.sigma.shape != ubm.means.shape:
            raise IvectorError(f"{path}: T {model.T.shape} / sigma {model.sigma.shape} do not match "
                               f"the UBM's {ubm.means.shape}")
        return model

    def reestimated(self, acc, variance_floor_factor=0.1, update_variances=True):
        """M-step from ``acc`` (IvectorStats): T_c = Cc A_c^-1, sigma_c = diag(S~_c - T_c Cc') / N_c,
        floored at ``variance_floor_factor`` times the occupancy-weighted average sigma. Returns a new
        extractor."""
        A = PackedSymmetric(self.ivector_dim).unpack(torch.as_tensor(acc.A))            # (C, R, R)
        C = torch.as_tensor(acc.C)                                                      # (C, D, R)
        T = torch.linalg.solve(A, C.transpose(1, 2)).transpose(1, 2)   # A symmetric: T_c = Cc A_c^-1
        sigma = self.sigma
        if update_variances:
            n = np.maximum(acc.N, 1e-10)[:, None]
            raw = (acc.S - (T * C).sum(dim=2).numpy()) / n
            floor = variance_floor_factor * (acc.N[:, None] * raw).sum(axis=0) / max(acc.N.sum(), 1e-10)
            sigma = np.maximum(raw, floor[None, :])
        return IvectorExtractor(self.ubm, T.numpy(), sigma)


class IvectorComputer:
    """Batched posterior of the i-vector given statistics, and the EM statistics for T and sigma."""

    def __init__(self, model, device="cpu"):
        self.device = pick_device(device)
        self.model = model
        self.T = torch.as_tensor(model.T, dtype=DTYPE, device=self.device)          # (C, D, R)
        self.sigma = torch.as_tensor(model.sigma, dtype=DTYPE, device=self.device)  # (C, D)
        c, d, r = self.T.shape
        self.packed = PackedSymmetric(r, self.device)
        t_sinv = self.T / self.sigma[:, :, None]
        self.U = self.packed.pack(torch.einsum("cdr,cds->crs", t_sinv, self.T))     # (C, P)
        self.t_sinv_flat = t_sinv.reshape(c * d, r)                                # (C*D, R)
        # per Gaussian: -D/2 log(2 pi) - 1/2 sum_d log sigma_cd
        self.log_norm = -0.5 * (d * math.log(2 * math.pi) + torch.log(self.sigma).sum(dim=1))

    def posterior(self, stats):
        """UttStats of B utterances -> (w (B, R) posterior means, L^-1 (B, R, R) posterior covariances,
        objective (B,) without its second-order term, which ``accumulate`` adds for the batch)."""
        b = stats.N.shape[0]
        eye = torch.eye(self.T.shape[2], dtype=DTYPE, device=self.device)
        precision = self.packed.unpack(stats.N @ self.U) + eye
        linear = stats.F.reshape(b, -1) @ self.t_sinv_flat                          # (B, R)
        chol = torch.linalg.cholesky(precision)
        w = torch.cholesky_solve(linear[:, :, None], chol)[:, :, 0]
        cov = torch.cholesky_inverse(chol)
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(dim=1)
        objective = stats.N @ self.log_norm + 0.5 * (linear * w).sum(dim=1) - 0.5 * logdet
        return w, cov, objective

    def accumulate(self, stats, acc):
        """Add a batch's EM statistics to ``acc`` (IvectorStats, in place)."""
        w, cov, objective = self.posterior(stats)
        b = w.shape[0]
        second = self.packed.pack(cov + w[:, :, None] * w[:, None, :])             # (B, P)
        acc.A += (stats.N.T @ second).cpu().numpy()
        acc.C += (stats.F.reshape(b, -1).T @ w).reshape(self.T.shape).cpu().numpy()
        acc.N += stats.N.sum(dim=0).cpu().numpy()
        acc.S += stats.S.cpu().numpy()
        acc.objective += float(objective.sum() - 0.5 * (stats.S / self.sigma).sum())
        acc.utts += b


@dataclasses.dataclass
class IvectorStats(EmStats):
    """EM statistics summed over utterances: A (C, P) packed, C (C, D, R), N (C,), S (C, D), the
    objective (nats) and the utterance count; float64. Add jobs' stats with ``+=``."""

    WHAT = "i-vector statistics"
    A: np.ndarray
    C: np.ndarray
    N: np.ndarray
    S: np.ndarray
    objective: float = 0.0
    utts: int = 0

    @classmethod
    def empty(cls, num_gauss, dim, ivector_dim):
        p = ivector_dim * (ivector_dim + 1) // 2
        return cls(np.zeros((num_gauss, p)), np.zeros((num_gauss, dim, ivector_dim)),
                   np.zeros(num_gauss), np.zeros((num_gauss, dim)))
