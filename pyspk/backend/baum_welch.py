"""Baum-Welch statistics of utterances under a fixed UBM alignment (top-C posteriors), the input of
i-vector extraction and of the total-variability EM.

Per utterance: zeroth order N (C,), first order centred on the UBM means F~ (C, D) = sum_t g_ct (x_t -
mu_c), second order diagonal S~ (C, D) likewise. The alignment never changes during the extractor's
EM, so steps/train_ivector_extractor.sh computes these once (as Kaldi computes its posteriors once):
a statistics archive holds, per utterance, the float32 matrix [N | F~] (C, 1 + D), and beside it
the job's summed S~ (C, D) float64 (``<ark>.second.npy``), all the M-step needs of S~.
"""
import dataclasses
import os

import numpy as np
import torch

from pyspk.backend.gmm_stats import top_c_posteriors
from pyspk.device import pick_device
from pyspk.io.atomic import atomic_write
from pyspk.io.kaldi_table import ArkScpWriter, read_entry
from pyspk.io.tables import read_table

DTYPE = torch.float64


@dataclasses.dataclass
class UttStats:
    """Baum-Welch statistics of a batch of B utterances, float64 tensors: N (B, C), F (B, C, D) centred
    on the UBM means, and S (C, D) the centred diagonal second order summed over the batch."""

    N: torch.Tensor
    F: torch.Tensor
    S: torch.Tensor


class StatsComputer:
    """Frames of one utterance -> its Baum-Welch statistics under a UBM (diagonal or full covariance)
    with top-C posteriors (``top_c`` <= 0: all components)."""

    def __init__(self, ubm, top_c=20, device="cpu"):
        self.device = pick_device(device)
        self.scorer = ubm.scorer(self.device)
        self.top_c = top_c
        self.means = torch.as_tensor(ubm.means, dtype=DTYPE, device=self.device)

    def __call__(self, frames):
        """frames (T, D) -> (N (C,), F~ (C, D), S~ (C, D)) float64 tensors."""
        x = self.scorer.to_tensor(frames)
        post, _ = top_c_posteriors(self.scorer.log_likelihoods(x), self.top_c)
        post, x = post.to(DTYPE), x.to(DTYPE)
        n = post.sum(dim=0)
        f = post.T @ x
        s = post.T @ (x * x)
        # centre on the UBM means: F~ = F - N mu, S~ = S - 2 mu F + N mu^2
        return n, f - n[:, None] * self.means, s - 2 * self.means * f + n[:, None] * self.means ** 2


def stack_stats(items):
    """List of (N, F~, S~) per utterance -> UttStats of the batch."""
    n, f, s = zip(*items)
    return UttStats(torch.stack(n), torch.stack(f), torch.stack(s).sum(dim=0))


def batched_stats(utt_frames, stats_of, batch_size=64):
    """Iterable of (utt, frames) -> yields (utts, UttStats) in batches of at most ``batch_size``
    utterances; ``stats_of`` is a StatsComputer. Holds one batch's statistics at a time."""
    utts, items = [], []
    for utt, frames in utt_frames:
        utts.append(utt)
        items.append(stats_of(frames))
        if len(utts) == batch_size:
            yield utts, stack_stats(items)
            utts, items = [], []
    if utts:
        yield utts, stack_stats(items)


def second_order_path(ark_path):
    """Where the summed S~ of a statistics archive is kept."""
    return os.fspath(ark_path) + ".second.npy"


def write_stats_archive(batches, ark_path, scp_path):
    """Write the (utts, UttStats) ``batches`` as a statistics archive (see the module docstring), all
    files atomically. Returns the number of utterances."""
    second = None
    with ArkScpWriter(ark_path, scp_path) as writer:
        for utts, stats in batches:
            rows = torch.cat([stats.N[:, :, None], stats.F], dim=2).cpu().numpy()    # (B, C, 1 + D)
            for utt, mat in zip(utts, rows):
                writer.write(utt, mat)
            second = stats.S.cpu().numpy() if second is None else second + stats.S.cpu().numpy()
        if second is None:
            raise ValueError(f"{ark_path}: no utterance to write statistics of")
        with atomic_write(second_order_path(ark_path), "wb") as f:
            np.save(f, second)
    return len(writer)


def read_stats_archive(scp_path, batch_size=64, device="cpu"):
    """Yield (utts, UttStats) batches of a statistics archive, in scp (sorted) order; S is the job's whole
    summed S~ in the first batch and zero after it (only its sum over batches is meaningful)."""
    device = pick_device(device)
    rows = read_table(scp_path, min_cols=2, max_cols=2)
    ark_of = {value.rsplit(":", 1)[0] for _, value in rows}
    if len(ark_of) != 1:
        raise ValueError(f"{scp_path}: expected the entries of one archive, found {len(ark_of)}")
    try:
        second = torch.as_tensor(np.load(second_order_path(ark_of.pop())), dtype=DTYPE, device=device)
    except (OSError, ValueError) as e:
        raise ValueError(f"{scp_path}: cannot read its summed second-order statistics: {e}") from None
    for start in range(0, len(rows), batch_size):
        part = rows[start:start + batch_size]
        mats = torch.as_tensor(np.stack([read_entry(value, f"statistics of {utt}", key=utt) for utt, value in part]),
                               dtype=DTYPE, device=device)
        s = second if start == 0 else torch.zeros_like(second)
        yield [utt for utt, _ in part], UttStats(mats[:, :, 0], mats[:, :, 1:], s)
