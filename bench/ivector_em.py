"""One i-vector extractor EM iteration: the UBM alignment recomputed from the frames every iteration
(the baseline, as this recipe did before) vs computed once and read back from its statistics archive
(what steps/train_ivector_extractor.sh does now, as Kaldi does), same run, same data, same model.

    python bench/ivector_em.py [--utts 120] [--num-gauss 64] [--ivector-dim 100] [--iters 3]

Made here from the demo corpus: MFCC + VAD of --utts utterances, a k-means UBM, a random extractor.
Printed: seconds per EM iteration for both ways (accumulation; the M-step is the same), the one-off
cost of the archive, the speed-up per iteration and over --iters iterations, and the largest relative
difference between the two ways' statistics.
"""
import argparse
import os
import tempfile
import time

import numpy as np

from pyspk.backend.baum_welch import StatsComputer, batched_stats, read_stats_archive, write_stats_archive
from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.gmm_init import init_by_kmeans, reservoir_sample
from pyspk.backend.ivector import IvectorComputer, IvectorExtractor, IvectorStats
from pyspk.features.mfcc import compute_mfcc
from pyspk.features.vad import compute_vad
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import read_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_mfcc_dir(corpus, n_utts, out):
    """feats.scp + vad.scp of the first ``n_utts`` utterances of iden_split.txt under ``out``."""
    paths = [p for _, p in read_table(f"{corpus}/iden_split.txt", 2, 2)][:n_utts]
    with ArkScpWriter(f"{out}/mfcc.ark", f"{out}/feats.scp") as wf, ArkScpWriter(f"{out}/vad.ark", f"{out}/vad.scp") as wv:
        for p in paths:
            mfcc = compute_mfcc(load_audio(f"{corpus}/wav/{p}")[0])
            key = os.path.splitext(p)[0].replace("/", "-")
            wf.write(key, mfcc)
            wv.write(key, compute_vad(mfcc))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(ROOT, "egs/demo/corpus"))
    parser.add_argument("--utts", type=int, default=120)
    parser.add_argument("--num-gauss", type=int, default=64)
    parser.add_argument("--ivector-dim", type=int, default=100)
    parser.add_argument("--top-c", type=int, default=20)
    parser.add_argument("--iters", type=int, default=3)
    args = parser.parse_args()
    opts = FrameOptions()
    with tempfile.TemporaryDirectory() as tmp:
        make_mfcc_dir(args.corpus, args.utts, tmp)
        frames = reservoir_sample((f for _, f in iter_frames(tmp, opts)), 50000)
        model = IvectorExtractor.init_random(init_by_kmeans(frames, args.num_gauss, 5), args.ivector_dim)
        stats_of = StatsComputer(model.ubm, args.top_c, "cpu")
        computer = IvectorComputer(model, "cpu")

        t0 = time.perf_counter()
        baseline = IvectorStats.empty(model.ubm.num_gauss, model.ubm.dim, model.ivector_dim)
        for _, batch in batched_stats(iter_frames(tmp, opts), stats_of):
            computer.accumulate(batch, baseline)
        t_base = time.perf_counter() - t0

        t0 = time.perf_counter()
        write_stats_archive(batched_stats(iter_frames(tmp, opts), stats_of), f"{tmp}/bw.ark", f"{tmp}/bw.scp")
        t_once = time.perf_counter() - t0
        t0 = time.perf_counter()
        cached = IvectorStats.empty(model.ubm.num_gauss, model.ubm.dim, model.ivector_dim)
        for _, batch in read_stats_archive(f"{tmp}/bw.scp"):
            computer.accumulate(batch, cached)
        t_cached = time.perf_counter() - t0
    diff = max(float(np.max(np.abs(getattr(cached, k) - getattr(baseline, k)) / (np.abs(getattr(baseline, k)).max())))
               for k in ("A", "C", "N", "S"))
    n = args.iters
    print(f"{baseline.utts} utterances, UBM {model.ubm.num_gauss} x {model.ubm.dim}, i-vector dim "
          f"{model.ivector_dim}, top-{args.top_c} alignment")
    print(f"EM iteration, alignment every iteration (baseline): {t_base:.2f} s; from the archive: {t_cached:.2f} s "
          f"(archive made once: {t_once:.2f} s)")
    print(f"speed-up per iteration {t_base / t_cached:.1f}x; over {n} iterations "
          f"{n * t_base / (t_once + n * t_cached):.1f}x; max relative difference of the statistics {diff:.1e}")


if __name__ == "__main__":
    main()
