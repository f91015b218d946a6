"""Scoring + metrics speed on synthetic embeddings, as ratios to numpy's sort of as many scores.

    python bench/scoring_speed.py [--dim 128] [--repeat 3]

Two sizes: VoxCeleb1-O (37,720 trials over 4,708 utterances) and VoxCeleb1-H size (550,000 trials
over 137,000 utterances). For each: cosine scoring, PLDA scoring (model trained beforehand, not
timed), cosine + AS-norm (top 300 of a 1,211-speaker cohort), the metrics (Kaldi EER, ROC EER,
three minDCFs), and writing + reading the score file. Each figure is the best of --repeat runs,
printed in seconds and as a multiple of ``np.sort`` of the same number of float64 scores.
"""
import argparse
import os
import tempfile
import time

import numpy as np

from pyspk.io.trials import Trials, read_scores, write_scores
from pyspk.metrics import verification_metrics
from pyspk.scoring import ScoringOptions, Scorer

SIZES = (("VoxCeleb1-O", 37_720, 4_708), ("VoxCeleb1-H", 550_000, 137_000))


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def synthetic(rng, n_ids, n_trials, dim, n_spk=1211):
    """Vectors of n_ids utterances of n_spk speakers and n_trials distinct random trials
    (no self-trials), about 1/10 of them targets."""
    spk = rng.integers(0, n_spk, n_ids)
    means = rng.normal(size=(n_spk, dim))
    x = means[spk] + 1.6 * rng.normal(size=(n_ids, dim))  # EER of a few percent
    n = int(n_trials * 1.1) + 10
    a = rng.integers(0, n_ids, n)
    same = rng.random(n) < 0.1
    b = rng.integers(0, n_ids, n)
    by_spk = {s: np.flatnonzero(spk == s) for s in np.unique(spk)}
    b[same] = [rng.choice(by_spk[spk[i]]) for i in a[same]]
    _, first = np.unique(a * n_ids + b, return_index=True)
    keep = np.sort(first[a[first] != b[first]])[:n_trials]
    a, b = a[keep], b[keep]
    return x.astype(np.float32), spk, a, b, spk[a] == spk[b]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    train, train_spk, *_ = synthetic(rng, 20_000, 1, args.dim)
    plda = Scorer.fit(ScoringOptions(backend="plda", mean_norm=True), train, train_spk)
    asnorm = Scorer.fit(ScoringOptions(asnorm_top_n=300), train, train_spk)
    cosine = Scorer.fit(ScoringOptions())
    print(f"dim {args.dim}; best of {args.repeat}; 'x sort' = time / np.sort of as many float64 scores")
    print(f"{'trials':>12} {'ids':>8}  {'what':<28} {'seconds':>8} {'x sort':>8}")
    for name, n_trials, n_ids in SIZES:
        x, _, a, b, target = synthetic(rng, n_ids, n_trials, args.dim)
        base, _ = best_of(args.repeat, lambda: np.sort(rng.normal(size=n_trials)))
        rows = []
        t, scores = best_of(args.repeat, lambda: cosine.score(x, a, b))
        rows.append(("cosine scoring", t))
        t, _ = best_of(args.repeat, lambda: plda.score(x, a, b))
        rows.append(("PLDA scoring", t))
        t, _ = best_of(args.repeat, lambda: asnorm.score(x, a, b))
        rows.append(("cosine + AS-norm (top 300)", t))
        t, m = best_of(args.repeat, lambda: verification_metrics(scores, target))
        rows.append(("metrics (EER, ROC EER, 3 DCF)", t))
        ids = [f"utt{i:06d}" for i in range(n_ids)]
        trials = Trials([ids[i] for i in a], [ids[i] for i in b], target)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "scores")
            t, _ = best_of(args.repeat, lambda: (write_scores(path, trials, scores), read_scores(path, trials)))
        rows.append(("write + read score file", t))
        rows.append(("total", sum(t for _, t in rows)))
        label = f"{n_trials:,}"
        for what, t in rows:
            print(f"{label:>12} {n_ids:>8,}  {what:<28} {t:8.3f} {t / base:8.1f}")
        print(f"{'':>12} {'':>8}  {'np.sort baseline':<28} {base:8.4f} {1.0:8.1f}   (EER {m['eer']:.2f}%)")


if __name__ == "__main__":
    main()
