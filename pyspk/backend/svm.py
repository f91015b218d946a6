"""Closed-set identification with one-vs-rest linear SVMs (scikit-learn ``LinearSVC``) on
L2-normalised vectors (i-vectors), the regularisation C chosen by top-1 accuracy on a validation set."""
import logging

import numpy as np
from sklearn.svm import LinearSVC

from pyspk.metrics import topk_accuracy

logger = logging.getLogger(__name__)


def l2_normalise(x):
    """(n, dim) -> (n, dim) rows scaled to unit Euclidean length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


class SvmIdentifier:
    """One linear SVM per class (one-vs-rest) over L2-normalised vectors; ``classes`` are the labels
    (e.g. speaker ids) in score-column order."""

    def __init__(self, c=1.0, seed=0):
        self.svm = LinearSVC(C=c, max_iter=20000, random_state=seed)

    def fit(self, vectors, labels):
        self.svm.fit(l2_normalise(vectors), np.asarray(labels))
        return self

    @property
    def classes(self):
        return list(self.svm.classes_)

    def scores(self, vectors):
        """(n, dim) vectors -> (n, n_classes) SVM decision values."""
        return self.svm.decision_function(l2_normalise(vectors))

    def accuracy(self, vectors, labels, ks=(1, 5)):
        """Top-k accuracy in percent, {k: percent}; every label must be a training class."""
        index = {c: i for i, c in enumerate(self.classes)}
        unknown = sorted({lab for lab in labels if lab not in index})
        if unknown:
            raise ValueError(f"{len(unknown)} label(s) not seen in training, e.g. {unknown[:3]}: "
                             "identification is closed-set")
        return topk_accuracy(self.scores(vectors), np.array([index[lab] for lab in labels]), ks)


def choose_c(train, val, grid):
    """Train one identifier per C in ``grid`` on ``train`` = (vectors, labels), keep the one with the
    best top-1 on ``val`` (the smaller C on ties). Returns (identifier, C, {C: val top-1})."""
    best, best_c, table = None, None, {}
    for c in sorted(grid):
        model = SvmIdentifier(c).fit(*train)
        table[c] = model.accuracy(*val, ks=(1,))[1]
        logger.info(f"C={c:g}: validation top-1 {table[c]:.2f}%")
        if best is None or table[c] > table[best_c]:
            best, best_c = model, c
    return best, best_c, table
