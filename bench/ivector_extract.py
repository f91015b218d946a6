"""i-vector extraction speed per utterance: our batched extractor vs a per-utterance numpy
transcription of the textbook formula (the baseline), same run, same statistics.

    python bench/ivector_extract.py [--extractor exp/extractor/final.ie] [--data data/veri_test_mfcc]

The extractor and the data dir come from the recipe (``./run.sh`` up to the i-vector stages).
Printed: seconds per utterance for the alignment + Baum-Welch statistics, for our posterior (batched,
torch float64 CPU) and for the baseline posterior (numpy float64, one utterance at a time, the
C x R x R precision sum written out), the speed-up, the largest i-vector difference between the two,
and the whole extraction's speed as a multiple of real time (10 ms frames).
"""
import argparse
import os
import sys
import time

import numpy as np

from pyspk.backend.baum_welch import StatsComputer, stack_stats
from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.ivector import IvectorComputer, IvectorExtractor


def textbook_ivector(model, n, f):
    """w = (I + sum_c N_c T_c' S_c^-1 T_c)^-1 sum_c T_c' S_c^-1 F~_c for one utterance."""
    r = model.ivector_dim
    t_sinv = model.T / model.sigma[:, :, None]
    precision = np.eye(r) + np.einsum("c,cdr,cds->rs", n, t_sinv, model.T)
    return np.linalg.solve(precision, np.einsum("cdr,cd->r", t_sinv, f))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extractor", default="exp/extractor/final.ie")
    parser.add_argument("--data", default="data/veri_test_mfcc")
    parser.add_argument("--top-c", type=int, default=20)
    args = parser.parse_args()
    for path in (args.extractor, os.path.join(args.data, "feats.scp")):
        if not os.path.isfile(path):
            sys.exit(f"{path} missing: run the recipe's i-vector stages first (or pass --extractor/--data)")
    model = IvectorExtractor.load(args.extractor)
    utts = list(iter_frames(args.data, FrameOptions()))
    n_frames = sum(f.shape[0] for _, f in utts)
    stats_of = StatsComputer(model.ubm, args.top_c, "cpu")
    t0 = time.perf_counter()
    items = [stats_of(f) for _, f in utts]
    t_stats = time.perf_counter() - t0
    computer = IvectorComputer(model, "cpu")
    t0 = time.perf_counter()
    ours = np.concatenate([computer.posterior(stack_stats(items[i:i + 64]))[0].numpy()
                           for i in range(0, len(items), 64)])
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = np.stack([textbook_ivector(model, n.numpy(), f.numpy()) for n, f, _ in items])
    t_base = time.perf_counter() - t0
    n = len(utts)
    print(f"{n} utterances ({n_frames / 100:.0f} s voiced), UBM {model.ubm.num_gauss} x {model.ubm.dim}, "
          f"i-vector dim {model.ivector_dim}, top-{args.top_c} alignment")
    print(f"alignment + statistics: {1000 * t_stats / n:.2f} ms/utt")
    print(f"posterior, ours (batched): {1000 * t_ours / n:.3f} ms/utt; textbook numpy: "
          f"{1000 * t_base / n:.3f} ms/utt; speed-up {t_base / t_ours:.1f}x; "
          f"max |difference| {np.abs(ours - base).max():.2e}")
    print(f"whole extraction: {1000 * (t_stats + t_ours) / n:.2f} ms/utt, "
          f"{n_frames / 100 / (t_stats + t_ours):.0f}x real time")


if __name__ == "__main__":
    main()
