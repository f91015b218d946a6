"""Diagonal-covariance GMMs for the GMM-UBM baseline: EM (with component splitting from one Gaussian),
top-C Gaussian selection, MAP adaptation of the means and the average frame log-likelihood ratio.

Frames are float32 matrices (frames, dims). The E-step runs in torch (CPU or GPU, ``device``), in
``compute_dtype`` (float32 by default: log-likelihoods are accurate to ~1e-5 nats, plenty for
posteriors); the statistics (posterior-weighted sums) are computed in float64 and the parameters
are float64.
A model file is an ``.npz`` with ``weights`` (C,), ``means`` (C, D) and ``variances`` (C, D).
"""
import dataclasses
import math

import numpy as np
import torch

from pyspk.io.atomic import atomic_write

CHUNK_FRAMES = 16384  # frames per E-step block: bounds the (frames, C) posterior matrix in memory


class GmmError(ValueError):
    """An unreadable or inconsistent GMM file, or features that do not match the model."""


def resolve_device(device):
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; other names pass through."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


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


@dataclasses.dataclass
class DiagGmm(GmmModel):
    """weights (C,), means (C, D), variances (C, D); all float64."""

    FIELDS = ("weights", "means", "variances")
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    @classmethod
    def load(cls, path):
        try:
            with np.load(path) as z:
                return cls.from_arrays(z, path)
        except (OSError, KeyError, ValueError) as e:
            if isinstance(e, GmmError):
                raise
            raise GmmError(f"{path}: not a diagonal GMM file ({type(e).__name__}: {e})") from None

    def scorer(self, device="cpu"):
        return GmmScorer(self, device)

    def empty_stats(self):
        return GmmStats.empty(self.num_gauss, self.dim)

    def updated(self, stats, min_variance=1e-3, min_count=1e-3):
        """-> (ML re-estimate from ``stats``, number of components left unchanged); see ``update``."""
        return update(self, stats, min_variance, min_count)

    def check(self, where="GMM"):
        c, d = self.means.shape
        if self.weights.shape != (c,) or self.variances.shape != (c, d):
            raise GmmError(f"{where}: inconsistent shapes weights {self.weights.shape}, "
                           f"means {self.means.shape}, variances {self.variances.shape}")
        if not (np.all(self.variances > 0) and np.all(self.weights >= 0)):
            raise GmmError(f"{where}: variances must be > 0 and weights >= 0")

    def check_dim(self, dim, what):
        """Raise a clear error when features of ``dim`` dimensions cannot be scored by this model."""
        if dim != self.dim:
            raise GmmError(f"model has dimension {self.dim} but {what} have dimension {dim} "
                           f"(check --add-deltas: 13 MFCC give 39 with deltas)")


class GmmScorer:
    """Per-component log-likelihoods log(w_c N(x; mu_c, diag var_c)) of frames, as one matrix product.

    ``[x*x, x, 1] @ W`` with W = [-0.5/var; mean/var; log w - 0.5 sum(log 2 pi var + mean^2/var)].
    """

    def __init__(self, gmm, device="cpu", compute_dtype=torch.float32):
        self.gmm = gmm
        self.device = resolve_device(device)
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
class GmmStats:
    """Sufficient statistics: occupancies (C,), first (C, D) and second (C, D) order sums over frames,
    total log-likelihood and frame count; float64. Add jobs' stats with ``+=``."""

    zero: np.ndarray
    first: np.ndarray
    second: np.ndarray
    loglike: float = 0.0
    frames: int = 0

    @classmethod
    def empty(cls, num_gauss, dim):
        return cls(np.zeros(num_gauss), np.zeros((num_gauss, dim)), np.zeros((num_gauss, dim)))

    def add_chunk(self, pt, x):
        """Add posteriors pt (C, T) and frames x (T, D), float64 tensors (frame counts are added
        by ``accumulate``)."""
        self.zero += pt.sum(dim=1).cpu().numpy()
        self.first += (pt @ x).cpu().numpy()
        self.second += (pt @ (x * x)).cpu().numpy()

    def __iadd__(self, other):
        if self.second.shape != other.second.shape:
            raise GmmError(f"cannot add statistics of shapes {other.second.shape} and {self.second.shape}")
        self.zero += other.zero
        self.first += other.first
        self.second += other.second
        self.loglike += other.loglike
        self.frames += other.frames
        return self

    def save(self, path):
        with atomic_write(path, "wb") as f:
            np.savez(f, zero=self.zero, first=self.first, second=self.second,
                     loglike=np.float64(self.loglike), frames=np.int64(self.frames))

    @classmethod
    def load(cls, path):
        try:
            with np.load(path) as z:
                return cls(z["zero"], z["first"], z["second"], float(z["loglike"]), int(z["frames"]))
        except (OSError, KeyError, ValueError) as e:
            raise GmmError(f"{path}: not a GMM statistics file ({type(e).__name__}: {e})") from None


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
        stats.add_chunk(post.T.double(), x.double())  # float64 sums: variances are differences of moments
        total += float(frame_ll.double().sum())
    stats.loglike += total
    stats.frames += x_all.shape[0]
    return total


def update(gmm, stats, min_variance=1e-3, min_count=1e-3):
    """ML re-estimation from ``stats`` -> (new DiagGmm, number of components left unchanged).

    Variances are floored at ``min_variance``; a component with occupancy below ``min_count``
    frames keeps its mean and variance (its weight becomes its tiny share).
    """
    occ = stats.zero
    weights = occ / max(occ.sum(), 1e-300)
    ok = occ >= min_count
    means = gmm.means.copy()
    variances = gmm.variances.copy()
    means[ok] = stats.first[ok] / occ[ok, None]
    variances[ok] = np.maximum(stats.second[ok] / occ[ok, None] - means[ok] ** 2, min_variance)
    weights = np.maximum(weights, 1e-10)
    return DiagGmm(weights / weights.sum(), means, variances), int(np.count_nonzero(~ok))


def em_step(gmm, frames, device="cpu", min_variance=1e-3, compute_dtype=torch.float32):
    """One EM iteration on in-memory frames -> (new gmm, average log-likelihood per frame before it)."""
    stats = GmmStats.empty(gmm.num_gauss, gmm.dim)
    accumulate(GmmScorer(gmm, device, compute_dtype), frames, stats)
    new, _ = update(gmm, stats, min_variance)
    return new, stats.loglike / max(stats.frames, 1)


def split_components(gmm, target, perturb=0.2):
    """Split the heaviest components (at most doubling) towards ``target`` components: each one becomes
    two with half its weight and means moved by +/- ``perturb`` standard deviations."""
    n_split = min(gmm.num_gauss, target - gmm.num_gauss)
    heavy = np.argsort(-gmm.weights, kind="stable")[:n_split]
    offset = perturb * np.sqrt(gmm.variances[heavy])
    weights = gmm.weights.copy()
    weights[heavy] *= 0.5
    means = gmm.means.copy()
    means[heavy] += offset
    return DiagGmm(np.concatenate([weights, weights[heavy]]),
                   np.concatenate([means, gmm.means[heavy] - offset]),
                   np.concatenate([gmm.variances, gmm.variances[heavy]]))


def init_by_splitting(frames, num_gauss, iters_per_split=3, device="cpu", min_variance=1e-3, log=None):
    """Train a ``num_gauss``-component GMM on in-memory frames (T, D), starting from one Gaussian and
    splitting (doubling) with ``iters_per_split`` EM iterations after each split. Returns the GMM."""
    x = np.asarray(frames, dtype=np.float64)
    gmm = DiagGmm(np.ones(1), x.mean(axis=0, keepdims=True),
                  np.maximum(x.var(axis=0, keepdims=True), min_variance))
    while gmm.num_gauss < num_gauss:
        gmm = split_components(gmm, num_gauss)
        for _ in range(iters_per_split):
            gmm, avg_ll = em_step(gmm, frames, device, min_variance)
        if log:
            log(f"init: {gmm.num_gauss} Gaussians, log-likelihood per frame {avg_ll:.4f}")
    return gmm


def _kmeans_pp(x, k, gen):
    """Greedy k-means++ (as scikit-learn): each next centre is, of 2 + ln k candidates drawn with
    probability ~ squared distance to the centres so far, the one that lowers the total most.
    x: (n, D) float64 tensor -> (k, D) centres."""
    sq = (x * x).sum(dim=1)

    def sq_dist(points):  # (n, m) squared distances of every row to ``points`` (m, D)
        return torch.clamp(sq[:, None] - 2 * x @ points.T + (points * points).sum(dim=1)[None, :], min=0)

    centres = x[torch.randint(x.shape[0], (1,), generator=gen).to(x.device)]
    dist = sq_dist(centres)[:, 0]
    trials = 2 + int(math.log(k))
    for _ in range(1, k):
        picks = torch.multinomial((dist / dist.sum()).cpu(), trials, replacement=True, generator=gen).to(x.device)
        cand = torch.minimum(dist[:, None], sq_dist(x[picks]))
        best = int(torch.argmin(cand.sum(dim=0)))
        centres = torch.cat([centres, x[picks[best]][None]])
        dist = cand[:, best]
    return centres


def _nearest(x, centres):
    """Index (T,) of each row's nearest centre and the squared distance (T,), in blocks of rows."""
    c_sq = (centres * centres).sum(dim=1)
    assign, dist = [], []
    for start in range(0, x.shape[0], CHUNK_FRAMES):
        xb = x[start:start + CHUNK_FRAMES]
        d2, idx = torch.min(-2 * xb @ centres.T + c_sq[None, :], dim=1)
        assign.append(idx)
        dist.append(d2 + (xb * xb).sum(dim=1))
    return torch.cat(assign), torch.cat(dist)


def init_by_kmeans(frames, num_gauss, iters=10, device="cpu", min_variance=1e-3, seed=0, log=None):
    """Train a ``num_gauss``-component GMM start on in-memory frames (T, D): greedy k-means++ seeding
    on a random subset of at most max(64 C, 10000) frames, then ``iters`` Lloyd iterations on all of
    them; each cluster gives a component (its share, mean and variance). Memory: the frames plus a
    (16384, C) block."""
    dev = resolve_device(device)
    x = torch.as_tensor(np.asarray(frames), dtype=torch.float64, device=dev)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    n = x.shape[0]
    if n < num_gauss:
        raise GmmError(f"k-means start: {n} frames for {num_gauss} Gaussians")
    subset = torch.randperm(n, generator=gen)[:max(64 * num_gauss, 10000)].to(dev)
    centres = _kmeans_pp(x[subset], num_gauss, gen)
    for it in range(iters + 1):
        assign, dist = _nearest(x, centres)
        count = torch.bincount(assign, minlength=num_gauss).to(x.dtype)
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        if it == iters:
            break
        live = count > 0
        centres[live] = sums[live] / count[live, None]
    if log:
        log(f"init: k-means with {num_gauss} centres, mean squared distance {float(dist.mean()):.4f}")
    sqsums = torch.zeros_like(centres).index_add_(0, assign, x * x)
    live = count > 0
    means = torch.where(live[:, None], sums / count.clamp(min=1)[:, None], centres)
    global_var = x.var(dim=0)
    variances = torch.where(live[:, None] & (count[:, None] > 1),
                            sqsums / count.clamp(min=1)[:, None] - means ** 2, global_var[None, :])
    weights = torch.clamp(count, min=1) / torch.clamp(count, min=1).sum()
    return DiagGmm(weights.cpu().numpy(), means.cpu().numpy(),
                   np.maximum(variances.cpu().numpy(), min_variance))


def reservoir_sample(frame_blocks, max_frames, seed=0):
    """Uniform sample of at most ``max_frames`` rows from an iterable of (T_i, D) blocks, holding no
    more than ``max_frames`` rows at a time (reservoir sampling). Returns (n, D) float32."""
    rng = np.random.default_rng(seed)
    buf, seen = None, 0
    for block in frame_blocks:
        block = np.asarray(block, dtype=np.float32)
        if buf is None:
            buf = np.empty((max_frames, block.shape[1]), dtype=np.float32)
        take = min(max(max_frames - seen, 0), block.shape[0])
        buf[seen:seen + take] = block[:take]
        rest = block[take:]
        if rest.shape[0]:
            j = rng.integers(0, seen + take + np.arange(1, rest.shape[0] + 1))
            keep = j < max_frames
            buf[j[keep]] = rest[keep]  # later rows win on equal slots, as the sequential algorithm
        seen += block.shape[0]
    if buf is None:
        raise GmmError("no frames to sample from")
    return buf[:min(seen, max_frames)]


def map_adapt_means(gmm, stats, relevance_factor=16.0):
    """MAP adaptation of the means (Reynolds et al. 2000): m_c = mu_c + a_c (F_c / n_c - mu_c),
    a_c = n_c / (n_c + r). r = inf gives the UBM, r = 0 the ML means (the UBM mean where n_c = 0).
    Returns (C, D) float64 means."""
    n = stats.zero
    alpha = n / (n + relevance_factor) if relevance_factor > 0 else (n > 0).astype(np.float64)
    ml = np.where(n[:, None] > 0, stats.first / np.maximum(n, 1e-300)[:, None], gmm.means)
    return gmm.means + alpha[:, None] * (ml - gmm.means)


class LlrScorer:
    """Average frame log-likelihood ratio of a test utterance, speaker model vs UBM, with top-C
    Gaussian selection: each frame is scored on the C components that score best under the UBM.
    A speaker model is the UBM with other means, so only its (C, D) means are needed, and only the
    selected components are evaluated (T x top_c x D work per trial, whatever the UBM's size)."""

    def __init__(self, ubm, top_c=5, device="cpu"):
        self.ubm = ubm
        self.top_c = min(top_c, ubm.num_gauss)
        self.device = resolve_device(device)
        self.ubm_scorer = GmmScorer(ubm, self.device)
        dtype = self.ubm_scorer.dtype
        self.inv_var = torch.as_tensor(1.0 / ubm.variances, dtype=dtype, device=self.device)        # (C, D)
        with np.errstate(divide="ignore"):
            const = np.log(ubm.weights) - 0.5 * np.sum(np.log(2 * math.pi * ubm.variances), axis=1)
        self.const = torch.as_tensor(const, dtype=dtype, device=self.device)                      # (C,)

    def speaker_means(self, means):
        """(C, D) adapted means -> the tensor ``score`` takes."""
        return torch.as_tensor(np.asarray(means), dtype=self.ubm_scorer.dtype, device=self.device)

    def prepare(self, frames):
        """Test frames (T, D) -> what ``score`` needs: frames, top-C indices (T, K), UBM frame log-lik."""
        x = self.ubm_scorer.to_tensor(frames)
        val, idx = torch.topk(self.ubm_scorer.log_likelihoods(x), self.top_c, dim=1)
        return x, idx, torch.logsumexp(val, dim=1)

    def score(self, means, prepared):
        """Mean over frames of log p(x | speaker) - log p(x | UBM), both over the UBM's top-C set;
        ``means`` from ``speaker_means``."""
        x, idx, ubm_ll = prepared
        diff = x[:, None, :] - means[idx]                                                          # (T, K, D)
        spk = self.const[idx] - 0.5 * (diff * diff * self.inv_var[idx]).sum(dim=2)
        return float((torch.logsumexp(spk, dim=1) - ubm_ll).double().mean())
