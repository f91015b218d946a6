"""LDA and two-covariance PLDA (float64), the classic back-end for i-vectors and x-vectors.

Two-covariance model (Brummer & de Villiers 2010; Sizov et al. 2014): an embedding x (dim d) of
speaker s is x = y_s + e with y_s ~ N(mu, B) (between-speaker covariance) and e ~ N(0, W)
(within-speaker covariance). ``PLDA.fit`` estimates mu, B, W by EM from labelled embeddings;
``PLDA.llr`` gives the log-likelihood ratio same speaker / different speakers for vector pairs.

For scoring, B and W are diagonalised together: with T such that T W T' = I and
T B T' = diag(psi), u = T (x - mu) has independent dimensions and
llr(x1, x2) = c + q(u1) + q(u2) + sum_k p_k u1_k u2_k,
p = psi / (2 psi + 1), q(u) = sum_k g_k u_k^2, g = (1 / (psi + 1) - (psi + 1) / (2 psi + 1)) / 2,
c = sum_k log(psi_k + 1) - log(2 psi_k + 1) / 2.
``PLDA.bilinear`` returns that form as (Z = u * sqrt(p), q), with c = ``PLDA.const``, so
llr = c + q1 + q2 + Z1 . Z2 and a whole score matrix is one matrix product (see pyspk.scoring).
"""
import numpy as np
import scipy.linalg


def speaker_sums(x, labels):
    """Group rows of x (n, d) by speaker labels (n,) -> (sums (S, d), counts (S,), index (n,)):
    speakers in sorted label order, ``index[i]`` the speaker of row i."""
    _, index, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
    sums = np.zeros((len(counts), x.shape[1]))
    np.add.at(sums, index, x)
    return sums, counts, index


def _check_training_data(x, labels, min_speakers=2):
    """-> (x as float64, speaker_sums(x, labels)) after checking shapes, values and speakers."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(labels) != len(x):
        raise ValueError(f"need vectors (n, dim) and n labels, got {x.shape} and {len(labels)} labels")
    if not np.all(np.isfinite(x)):
        raise ValueError("training vectors contain NaN or inf")
    grouped = speaker_sums(x, labels)
    if len(grouped[1]) < min_speakers:
        raise ValueError(f"need at least {min_speakers} speakers, got {len(grouped[1])}")
    return x, grouped


def class_covariances(x, labels):
    """(mean (d,), between (d, d), within (d, d)): between = covariance of the speaker means
    (each speaker counts once), within = scatter of vectors around their speaker mean / n."""
    x, (sums, counts, index) = _check_training_data(x, labels)
    means = sums / counts[:, None]
    mu = means.mean(axis=0)
    between = np.cov(means, rowvar=False, bias=True)
    dev = x - means[index]
    within = dev.T @ dev / len(x)
    return mu, between, within


class LDA:
    """Linear discriminant analysis: y = A' x, A (d, dim) maximising between- over
    within-speaker variance, scaled so that the within-speaker covariance of y is the identity."""

    def __init__(self, transform):
        self.transform_matrix = np.asarray(transform, dtype=np.float64)

    @classmethod
    def fit(cls, x, labels, dim):
        """Fit on vectors x (n, d) with speaker labels (n,); dim <= min(d, speakers - 1)."""
        _, between, within = class_covariances(x, labels)
        d = between.shape[0]
        n_spk = len(np.unique(labels))
        if not 1 <= dim <= min(d, n_spk - 1):
            raise ValueError(f"LDA dim must be in 1..{min(d, n_spk - 1)} (vector dim {d}, "
                             f"{n_spk} speakers), got {dim}")
        within = within + 1e-10 * np.trace(within) / d * np.eye(d)
        vals, vecs = scipy.linalg.eigh(between, within)  # vecs' within vecs = I, vals ascending
        return cls(vecs[:, ::-1][:, :dim])

    def __call__(self, x):
        """x (n, d) -> (n, dim)."""
        return np.asarray(x, dtype=np.float64) @ self.transform_matrix


class PLDA:
    """Two-covariance PLDA: mean mu (d,), between covariance B (d, d), within covariance W (d, d)."""

    def __init__(self, mu, between, within):
        self.mu = np.asarray(mu, dtype=np.float64)
        self.between = np.asarray(between, dtype=np.float64)
        self.within = np.asarray(within, dtype=np.float64)
        d = len(self.mu)
        # Simultaneous diagonalisation: T W T' = I, T B T' = diag(psi).
        psi, vecs = scipy.linalg.eigh(self.between, self.within + 1e-12 * np.trace(self.within) / d * np.eye(d))
        self.psi = np.maximum(psi, 0.0)
        self.T = vecs.T
        self.const = float(np.sum(np.log(self.psi + 1) - 0.5 * np.log(2 * self.psi + 1)))

    @classmethod
    def fit(cls, x, labels, iters=10):
        """EM training on vectors x (n, d) with speaker labels (n,), starting from the class
        covariances; ``iters`` EM iterations."""
        x, (sums, counts, _) = _check_training_data(x, labels)
        n, d = x.shape
        mu, between, within = class_covariances(x, labels)
        sxx = x.T @ x
        eye = np.eye(d)
        for _ in range(iters):
            b_prec = np.linalg.inv(between + 1e-10 * eye)
            w_prec = np.linalg.inv(within + 1e-10 * eye)
            ryy = np.zeros((d, d))      # sum_s E[y_s y_s']
            ryf = np.zeros((d, d))      # sum_s E[y_s] f_s'
            nryy = np.zeros((d, d))     # sum_s n_s E[y_s y_s']
            ysum = np.zeros(d)
            for count in np.unique(counts):
                group = np.flatnonzero(counts == count)
                cov = np.linalg.inv(b_prec + count * w_prec)      # posterior covariance of y_s
                y = (sums[group] @ w_prec + b_prec @ mu) @ cov    # posterior means (cov symmetric)
                yy = y.T @ y + len(group) * cov
                ryy += yy
                nryy += count * yy
                ryf += y.T @ sums[group]
                ysum += y.sum(axis=0)
            n_spk = len(counts)
            mu = ysum / n_spk
            between = ryy / n_spk - np.outer(mu, mu)
            within = (sxx - ryf - ryf.T + nryy) / n
            between = (between + between.T) / 2
            within = (within + within.T) / 2
        return cls(mu, between, within)

    def bilinear(self, x):
        """x (n, d) -> (Z (n, d), q (n,)): llr(x_i, x_j) = self.const + q_i + q_j + Z_i . Z_j."""
        u = (np.asarray(x, dtype=np.float64) - self.mu) @ self.T.T
        psi = self.psi
        p = psi / (2 * psi + 1)
        g = 0.5 * (1 / (psi + 1) - (psi + 1) / (2 * psi + 1))
        return u * np.sqrt(p), (u * u) @ g

    def llr(self, x1, x2):
        """Log-likelihood ratios for the row pairs of x1 (n, d) and x2 (n, d) -> (n,)."""
        z1, q1 = self.bilinear(x1)
        z2, q2 = self.bilinear(x2)
        return self.const + q1 + q2 + np.einsum("ij,ij->i", z1, z2)
