"""Diagonal-GMM EM: ours vs scikit-learn's GaussianMixture(covariance_type="diag"), same run, same frames.

    python bench/gmm_em.py [--data data/veri_train_mfcc] [--num-gauss 64,256] [--iters 10] [--max-frames 200000]

Frames are the data dir's MFCC as the UBM sees them (deltas, sliding CMVN, voiced frames; made by
``./run.sh --stop-stage 1``). Both EMs start from the same k-means++ model and run --iters
iterations (scikit-learn with tol=0, so it never stops early; our variance floor set to its
reg_covar, 1e-6, instead of the recipe's 1e-3); then scikit-learn also runs from its
own k-means start. Printed per mixture size: seconds per EM iteration (ours on CPU, float32 E-step +
float64 statistics; scikit-learn float64) and the final average log-likelihood per frame (both
evaluated in float64 by scikit-learn's ``score``), and their ratios.
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np

from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.gmm_init import em_step, init_by_kmeans, reservoir_sample


def sklearn_gmm(gmm, n_iter, **kwargs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    if gmm is not None:
        kwargs.update(weights_init=gmm.weights, means_init=gmm.means, precisions_init=1.0 / gmm.variances)
    model = GaussianMixture(n_components=kwargs.pop("n_components", None) or gmm.num_gauss,
                            covariance_type="diag", max_iter=n_iter, tol=0.0, reg_covar=1e-6, **kwargs)
    warnings.simplefilter("ignore", ConvergenceWarning)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data/veri_train_mfcc")
    parser.add_argument("--num-gauss", default="64,256")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--max-frames", type=int, default=200000)
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.data, "feats.scp")):
        sys.exit(f"{args.data}/feats.scp missing: run ./run.sh --stop-stage 1 first (or pass --data)")
    x = reservoir_sample((f for _, f in iter_frames(args.data, FrameOptions())), args.max_frames)
    x64 = x.astype(np.float64)
    print(f"{x.shape[0]} frames x {x.shape[1]} dims from {args.data}; {args.iters} EM iterations")
    print(f"{'C':>5} {'ours s/iter':>12} {'sklearn s/iter':>15} {'speed-up':>9} "
          f"{'ours LL/frame':>14} {'sklearn LL/frame':>17} {'sklearn(own init)':>18}")
    for c in (int(v) for v in args.num_gauss.split(",")):
        start = init_by_kmeans(x, c, iters=5, device="cpu")
        gmm = start
        t0 = time.perf_counter()
        for _ in range(args.iters):
            gmm, _ = em_step(gmm, x, device="cpu", min_variance=1e-6)  # as sklearn reg_covar
        ours_t = (time.perf_counter() - t0) / args.iters
        ref = sklearn_gmm(start, args.iters)
        t0 = time.perf_counter()
        ref.fit(x64)
        sk_t = (time.perf_counter() - t0) / args.iters
        shell = sklearn_gmm(start, 1).fit(x64[:c * 2])  # a fitted estimator, to score our model with
        shell.weights_, shell.means_ = gmm.weights, gmm.means
        shell.covariances_, shell.precisions_cholesky_ = gmm.variances, 1.0 / np.sqrt(gmm.variances)
        ours_ll = shell.score(x64)
        own = sklearn_gmm(None, args.iters, n_components=c, random_state=0).fit(x64)
        print(f"{c:>5} {ours_t:>12.3f} {sk_t:>15.3f} {sk_t / ours_t:>8.2f}x "
              f"{ours_ll:>14.4f} {ref.score(x64):>17.4f} {own.score(x64):>18.4f}")


if __name__ == "__main__":
    main()
