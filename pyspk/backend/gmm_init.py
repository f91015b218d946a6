"""Starts of a diagonal UBM on a sample of frames held in memory: k-means++ seeding then Lloyd
iterations, or component splitting from one Gaussian with EM after each split; and the uniform
sample of frames (reservoir sampling) they start from. Frames are (T, D) matrices."""
import logging
import math

import numpy as np
import torch

from pyspk.backend.gmm import DiagGmm, GmmError, GmmScorer
from pyspk.backend.gmm_stats import CHUNK_FRAMES, GmmStats, accumulate
from pyspk.device import pick_device

logger = logging.getLogger(__name__)


def em_step(gmm, frames, device="cpu", min_variance=1e-3, compute_dtype=torch.float32):
    """One EM iteration on in-memory frames -> (new gmm, average log-likelihood per frame before it)."""
    stats = GmmStats.empty(gmm.num_gauss, gmm.dim)
    accumulate(GmmScorer(gmm, device, compute_dtype), frames, stats)
    new, _ = gmm.reestimated(stats, min_variance)
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


def init_by_splitting(frames, num_gauss, iters_per_split=3, device="cpu", min_variance=1e-3):
    """Train a ``num_gauss``-component GMM on in-memory frames (T, D), starting from one Gaussian and
    splitting (doubling) with ``iters_per_split`` EM iterations after each split. Returns the GMM."""
    x = np.asarray(frames, dtype=np.float64)
    gmm = DiagGmm(np.ones(1), x.mean(axis=0, keepdims=True),
                  np.maximum(x.var(axis=0, keepdims=True), min_variance))
    while gmm.num_gauss < num_gauss:
        gmm = split_components(gmm, num_gauss)
        for _ in range(iters_per_split):
            gmm, avg_ll = em_step(gmm, frames, device, min_variance)
        logger.info(f"init: {gmm.num_gauss} Gaussians, log-likelihood per frame {avg_ll:.4f}")
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


def init_by_kmeans(frames, num_gauss, iters=10, device="cpu", min_variance=1e-3, seed=0):
    """Train a ``num_gauss``-component GMM start on in-memory frames (T, D): greedy k-means++ seeding
    on a random subset of at most max(64 C, 10000) frames, then ``iters`` Lloyd iterations on all of
    them; each cluster gives a component (its share, mean and variance). Memory: the frames plus a
    (16384, C) block."""
    dev = pick_device(device)
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
    logger.info(f"init: k-means with {num_gauss} centres, mean squared distance {float(dist.mean()):.4f}")
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
