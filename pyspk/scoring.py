"""Scoring trials: cosine (the paper's) or PLDA, after optional mean subtraction, LDA and length
normalisation, with optional adaptive score normalisation (AS-norm).

Both back-ends score in one bilinear form, score(i, j) = c + q_i + q_j + Z_i . Z_j
(cosine: Z = unit-length vectors, q = 0, c = 0; PLDA: see pyspk.backend.plda), so trials are
scored in chunks of rows of Z gathered per trial, and cohort scores are matrix products in
chunks of ids: memory grows with the number of distinct ids, not with the number of trials.

Pipeline (Kaldi's x-vector recipe order): x -> x - mean(train) -> LDA -> length norm to
sqrt(dim) -> cosine or PLDA. The mean, LDA and PLDA are estimated on train vectors passed through
the same earlier steps.
"""
import collections
import dataclasses

import numpy as np

from pyspk.backend.plda import LDA, PLDA, speaker_sums

TRIAL_CHUNK = 65536   # trials scored per block: block memory = 2 * chunk * dim * 8 bytes
COHORT_CHUNK = 2048   # ids per block of the (ids x cohort) score matrix


@dataclasses.dataclass
class ScoringOptions:
    """Options of the scoring pipeline (``pyspk.bin.score`` flags: ``--backend`` etc.)."""
    backend: str = "cosine"     # cosine | plda
    mean_norm: bool = False     # subtract the train-set mean (needs train vectors)
    lda_dim: int = 0            # LDA to this dim before the back-end (0: none; needs train data)
    length_norm: bool = True    # scale vectors to length sqrt(dim) (cosine: no effect)
    asnorm_top_n: int = 0       # AS-norm with the top-N cohort scores per side (0: off)
    plda_iters: int = 10        # PLDA EM iterations


def row_norms(x):
    """Euclidean length of each row of x (n, d) -> (n, 1); a zero row is an error."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]  # einsum: no (n, d) temporary
    if np.any(norms == 0):
        raise ValueError(f"{int(np.sum(norms == 0))} vectors have length 0; cannot normalise them")
    return norms


def length_normalise(x):
    """Scale each row of x (n, d) to length sqrt(d), as Kaldi's ivector-normalize-length."""
    x = np.asarray(x, dtype=np.float64)
    return x * (np.sqrt(x.shape[1]) / row_norms(x))


class Scorer:
    """A fitted pipeline: ``embed`` maps raw vectors to the bilinear form (Z, q) with constant c."""

    def __init__(self, config, mean=None, lda=None, plda=None, cohort=None):
        self.config = config
        self.mean, self.lda, self.plda = mean, lda, plda
        self.c = 0.0 if plda is None else plda.const
        self.cohort = None if cohort is None else self.embed(cohort, preprocessed=True)

    @classmethod
    def fit(cls, config, train=None, labels=None):
        """Estimate what ``config`` needs from train vectors (n, d) and their speaker labels (n,)."""
        if config.backend not in ("cosine", "plda"):
            raise ValueError(f"backend must be 'cosine' or 'plda', got {config.backend!r}")
        needs_labels = config.lda_dim > 0 or config.backend == "plda" or config.asnorm_top_n > 0
        if not (config.mean_norm or needs_labels):
            return cls(config)
        if train is None:
            raise ValueError("mean-norm, LDA, PLDA and AS-norm need train vectors (--train-vectors)")
        x = np.asarray(train, dtype=np.float64)
        mean = x.mean(axis=0) if config.mean_norm else None
        if mean is not None:
            x = x - mean
        if needs_labels and (labels is None or len(labels) != len(x)):
            raise ValueError("LDA, PLDA and AS-norm need a speaker label per train vector (--train-data)")
        lda = LDA.fit(x, labels, config.lda_dim) if config.lda_dim > 0 else None
        if lda is not None:
            x = lda(x)
        if config.length_norm:
            x = length_normalise(x)
        plda = PLDA.fit(x, labels, config.plda_iters) if config.backend == "plda" else None
        cohort = None
        if config.asnorm_top_n > 0:
            sums, counts, _ = speaker_sums(x, labels)
            cohort = sums / counts[:, None]  # the speaker means
            if config.length_norm:
                cohort = length_normalise(cohort)
            if config.asnorm_top_n > len(cohort):
                raise ValueError(f"asnorm top-n {config.asnorm_top_n} exceeds the {len(cohort)} cohort speakers")
        return cls(config, mean, lda, plda, cohort)

    def preprocess(self, x):
        """Raw vectors (n, d) -> mean-subtracted, LDA-projected, length-normalised (n, d')."""
        x = np.asarray(x, dtype=np.float64)
        if self.mean is not None:
            x = x - self.mean
        if self.lda is not None:
            x = self.lda(x)
        if self.config.length_norm:
            x = length_normalise(x)
        return x

    def embed(self, x, preprocessed=False):
        """Vectors (n, d) -> (Z (n, k), q (n,)); score(i, j) = self.c + q_i + q_j + Z_i . Z_j."""
        if not preprocessed:
            x = self.preprocess(x)
        if self.plda is not None:
            return self.plda.bilinear(x)
        return x / row_norms(x), np.zeros(len(x))

    def score(self, x, enroll_idx, test_idx):
        """Scores (n_trials,) of trials enroll_idx[i] vs test_idx[i], indices into rows of x (n_ids, d)."""
        z, q = self.embed(x)
        scores = pair_scores(z, q, self.c, enroll_idx, test_idx)
        if self.cohort is None:
            return scores
        ids = np.unique(np.concatenate([enroll_idx, test_idx]))
        mean = np.zeros(len(x))
        std = np.zeros(len(x))
        mean[ids], std[ids] = cohort_stats((z[ids], q[ids]), self.cohort, self.c, self.config.asnorm_top_n)
        return asnorm(scores, enroll_idx, test_idx, mean, std)


def pair_scores(z, q, c, a_idx, b_idx, chunk=TRIAL_CHUNK):
    """c + q[a] + q[b] + Z[a] . Z[b] for each trial (a_idx, b_idx index rows of Z (n, k))."""
    a_idx = np.asarray(a_idx)
    b_idx = np.asarray(b_idx)
    out = np.empty(len(a_idx))
    for start in range(0, len(a_idx), chunk):
        a = a_idx[start:start + chunk]
        b = b_idx[start:start + chunk]
        out[start:start + chunk] = np.einsum("ij,ij->i", z[a], z[b])
    return out + q[a_idx] + q[b_idx] + c


def cohort_stats(side, cohort, c, top_n, chunk=COHORT_CHUNK):
    """Mean and standard deviation (each (n,)) of the top_n highest scores of each vector of
    ``side`` = (Z (n, k), q (n,)) against the ``cohort`` = (Zc (m, k), qc (m,)).

    Cohort scores are computed in float32 (twice as fast; the statistics move by ~1e-6 relative),
    the statistics in float64.
    """
    z, q = side
    zc, qc = (np.asarray(a, dtype=np.float32) for a in cohort)
    mean = np.empty(len(z))
    std = np.empty(len(z))
    for start in range(0, len(z), chunk):
        block = slice(start, start + chunk)
        s = np.asarray(z[block], dtype=np.float32) @ zc.T + qc + np.float32(q[block, None] + c)
        top = np.partition(s, s.shape[1] - top_n, axis=1)[:, s.shape[1] - top_n:]
        mean[block] = top.mean(axis=1, dtype=np.float64)
        std[block] = top.std(axis=1, dtype=np.float64)
    return mean, std


def asnorm(scores, a_idx, b_idx, mean, std):
    """Adaptive s-norm: ((s - mean_a) / std_a + (s - mean_b) / std_b) / 2, with each side's
    top-N cohort mean and std indexed by a_idx / b_idx (arrays over ids)."""
    used = np.unique(np.concatenate([a_idx, b_idx]))
    if np.any(std[used] <= 0):
        raise ValueError(f"{int(np.sum(std[used] <= 0))} vectors have identical top-N cohort scores "
                         "(zero spread): AS-norm is undefined; raise --asnorm-top-n")
    return 0.5 * ((scores - mean[a_idx]) / std[a_idx] + (scores - mean[b_idx]) / std[b_idx])


def stack_vectors(keys, arrays, source="vectors"):
    """1-D arrays of one length -> float64 matrix (n, d); a NaN/inf or a shape unlike the others'
    (the most common one, so one odd vector is named, not a healthy one) names its key and ``source``."""
    shapes = collections.Counter(np.shape(v) for v in arrays)
    shape = shapes.most_common(1)[0][0] if shapes else None
    for key, v in zip(keys, arrays):
        if np.ndim(v) != 1 or np.shape(v) != shape:
            raise ValueError(f"{source}: vector of {key!r} has shape {np.shape(v)}; {shapes[shape]} of "
                             f"{len(arrays)} vectors have shape {shape}")
    x = np.stack(arrays).astype(np.float64)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        raise ValueError(f"{source}: vector of {keys[int(np.flatnonzero(~finite)[0])]!r} contains NaN or inf")
    return x


def score_trials(config, vectors, trials, train=None, train_labels=None, sources=("vectors", "train vectors")):
    """Score a Trials list (pyspk.io.trials) -> float64 (n_trials,) in trial order.

    ``vectors`` maps every id named by the trials to a 1-D vector (other keys are ignored);
    ``train``/``train_labels`` as for ``Scorer.fit``. An id with no vector is an error naming
    the trials line; train and trial vectors of different dimension an error naming both
    ``sources`` (where each set came from, e.g. its scp file) and both dimensions.
    """
    ids = trials.ids()
    missing = [k for k in ids if k not in vectors]
    if missing:
        raise KeyError(f"{trials.line_of(missing[0])}: no vector for {missing[0]!r} "
                       f"({len(missing)} ids of the trials have none)")
    x = stack_vectors(ids, [vectors[k] for k in ids], sources[0])
    if train is not None and np.shape(train)[1] != x.shape[1]:
        raise ValueError(f"{sources[0]} are {x.shape[1]}-dimensional but {sources[1]} are "
                         f"{np.shape(train)[1]}-dimensional: they must come from one model")
    pos = {k: i for i, k in enumerate(ids)}
    enroll_idx = np.fromiter((pos[k] for k in trials.enroll), dtype=np.int64, count=len(trials))
    test_idx = np.fromiter((pos[k] for k in trials.test), dtype=np.int64, count=len(trials))
    scorer = Scorer.fit(config, train, train_labels)
    return scorer.score(x, enroll_idx, test_idx)
