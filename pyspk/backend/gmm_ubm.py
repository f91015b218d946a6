"""GMM-UBM verification (Reynolds et al. 2000): a speaker model is the UBM with MAP-adapted means; a
trial's score is the test utterance's average frame log-likelihood ratio, speaker model vs UBM, with
top-C Gaussian selection. Frames are (T, D) matrices; means (C, D) float64."""
import math

import numpy as np
import torch

from pyspk.backend.gmm import GmmScorer
from pyspk.device import pick_device


def map_adapt_means(gmm, stats, relevance_factor=16.0):
    """MAP adaptation of the means: m_c = mu_c + a_c (F_c / n_c - mu_c), a_c = n_c / (n_c + r), from a
    ``GmmStats`` of the speaker's frames. r = inf gives the UBM, r = 0 the ML means (the UBM mean where
    n_c = 0). Returns (C, D) float64 means."""
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
        self.device = pick_device(device)
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
