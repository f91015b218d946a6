"""Closed-set identification with one-vs-rest linear SVMs on L2-normalised utterance vectors (i-vectors,
or CNN embeddings): train on <train-dir>, choose C by top-1 on <val-dir>, report top-1/top-5 on <test-dir>.

    python -m pyspk.bin.identify_svm [--c-grid 0.01,0.1,1,10,100 --exp-root exp --system ivector_svm] \\
        [--projection plda --lda-dim 200] [--vectors xvector.scp] <train-dir> <val-dir> <test-dir>

Each dir holds the scp named by --vectors and utt2spk: ivector.scp as steps/extract_ivectors.sh writes
it (the default), xvector.scp as steps/extract_embeddings.sh does. --projection plda (the paper's
"I-vectors + PLDA + SVM") first maps every vector through the scoring back-end fitted on the train
dir: mean, LDA to --lda-dim, length norm, PLDA, keeping the PLDA's diagonalised,
within-speaker-whitened coordinates; --projection lda stops after the LDA. With --system the
accuracies (percent), the dimension and the utterances scored / listed are recorded in <exp-root>/RESULTS.
"""
import dataclasses
import logging
import os

import numpy as np

from pyspk.backend.svm import choose_c
from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.kaldi_table import KaldiTableError, load_scp
from pyspk.io.tables import read_map
from pyspk.results import check_counted, details, record
from pyspk.scoring import Scorer, ScoringOptions, stack_vectors

logger = logging.getLogger("identify_svm")


@dataclasses.dataclass
class Options:
    """Identify speakers with linear SVMs on i-vectors or CNN embeddings."""

    c_grid: str = "0.01,0.1,1,10,100"   # comma-separated C values tried on the validation set
    vectors: str = "ivector.scp"        # the scp in each dir: ivector.scp | xvector.scp (CNN embeddings)
    projection: str = "none"            # none | lda | plda: project the vectors before the SVM
    lda_dim: int = 0                    # LDA dim for --projection lda|plda (0: no LDA before PLDA)
    plda_iters: int = 10                # PLDA EM iterations (--projection plda)
    exp_root: str = "exp"
    system: str = ""                     # record under this name ("" = print only)
    listed_data: str = ""                # data dir of the test list the figure is for ("" = <test-dir>)
    max_bad_fraction: float = 0.5        # fail when more than this fraction of a dir has no vector
    corpus: str = ""                     # corpus recorded with the row
    config_used: str = ""                # config file(s) recorded with the row


def load_labelled(vec_dir, vectors_name, max_bad_fraction):
    """<vec_dir>/<vectors_name> (e.g. ivector.scp) + utt2spk -> (vectors (n, dim) float64, speaker
    labels (n,)); utterances of utt2spk without a vector (skipped at extraction) are reported, and
    more than ``max_bad_fraction`` of them is an error."""
    scp, utt2spk = os.path.join(vec_dir, vectors_name), os.path.join(vec_dir, "utt2spk")
    vectors = load_scp(scp)
    labels = read_map(utt2spk)
    missing = [u for u in labels if u not in vectors]
    if missing:
        logger.warning(f"WARNING: {len(missing)} utterances of {utt2spk} have no vector in {scp}, e.g. {missing[0]}")
    utts = sorted(u for u in labels if u in vectors)
    check_counted(len(utts), len(labels), "utterances", utt2spk, max_bad_fraction)
    unlabelled = [u for u in vectors if u not in labels]
    if unlabelled:
        raise KaldiTableError(f"{scp}: {unlabelled[0]} has no speaker in {utt2spk}")
    return stack_vectors(utts, [vectors[u] for u in utts], scp), [labels[u] for u in utts]


def projector(cfg, train):
    """The map applied to every vector set before the SVM, fitted on train = (vectors, labels)."""
    if cfg.projection == "none":
        return lambda x: x
    if cfg.projection not in ("lda", "plda"):
        raise ValueError(f"--projection must be none, lda or plda, got {cfg.projection!r}")
    if cfg.projection == "lda" and cfg.lda_dim <= 0:
        raise ValueError("--projection lda needs --lda-dim > 0")
    scoring = ScoringOptions(backend="plda" if cfg.projection == "plda" else "cosine", mean_norm=True,
                            lda_dim=cfg.lda_dim, plda_iters=cfg.plda_iters)
    scorer = Scorer.fit(scoring, train[0], np.array(train[1]))
    if cfg.projection == "lda":
        return scorer.preprocess
    return lambda x: scorer.embed(x)[0]


def main(argv=None):
    setup_logging()
    cfg, args = parse_options(Options, argv, positional=("train_dir", "val_dir", "test_dir"))
    grid = [float(c) for c in cfg.c_grid.split(",")]
    dirs = (args.train_dir, args.val_dir, args.test_dir)
    train, val, test = (load_labelled(d, cfg.vectors, cfg.max_bad_fraction) for d in dirs)
    for d, (x, _) in zip(dirs[1:], (val, test)):
        if x.shape[1] != train[0].shape[1]:
            raise ValueError(f"{d}/{cfg.vectors} has {x.shape[1]}-dimensional vectors but {dirs[0]}/{cfg.vectors} "
                             f"{train[0].shape[1]}-dimensional: they must come from one extractor")
    project = projector(cfg, train)
    train, val, test = ((project(x), labels) for x, labels in (train, val, test))
    model, best_c, _ = choose_c(train, val, grid)
    acc = model.accuracy(*test)
    listed_dir = cfg.listed_data or args.test_dir
    listed = len(read_map(os.path.join(listed_dir, "utt2spk")))
    counted = len(test[1])
    check_counted(counted, listed, "utterances", listed_dir, cfg.max_bad_fraction)
    dim = train[0].shape[1]
    logger.info(f"C={best_c:g} (best on validation); test ({counted} of {listed} utterances of {listed_dir}, "
                f"{len(model.classes)} speakers, {dim}-dim vectors of {cfg.vectors}, projection {cfg.projection}): "
                f"top-1 {acc[1]:.2f}%, top-5 {acc[5]:.2f}%")
    if cfg.system:
        record(cfg.exp_root, cfg.system, top1=acc[1], top5=acc[5], dim=dim, utts_counted=counted,
               utts_listed=listed, **details(cfg))
        logger.info(f"recorded {cfg.system} in {cfg.exp_root}/RESULTS")


if __name__ == "__main__":
    run_command(main)
