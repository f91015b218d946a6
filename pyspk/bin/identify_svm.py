"""Closed-set identification with one-vs-rest linear SVMs on L2-normalised i-vectors: train on
<train-dir>, choose C by top-1 on <val-dir>, report top-1/top-5 on <test-dir>.

    python -m pyspk.bin.identify_svm [--c-grid 0.01,0.1,1,10,100 --exp-root exp --system ivector_svm] \\
        <train-dir> <val-dir> <test-dir>

Each dir holds ivector.scp and utt2spk (as steps/extract_ivectors.sh writes them). With --system the
accuracies (percent) and the dimension are recorded in <exp-root>/RESULTS.
"""
import dataclasses
import os
import sys

import numpy as np

from pyspk.backend.svm import choose_c
from pyspk.bin.options import parse_options, run_command
from pyspk.io.kaldi_table import KaldiTableError, load_scp
from pyspk.io.tables import TableError, read_map
from pyspk.results import record


@dataclasses.dataclass
class IdentifySvmConfig:
    """Identify speakers with linear SVMs on i-vectors."""

    c_grid: str = "0.01,0.1,1,10,100"   # comma-separated C values tried on the validation set
    exp_root: str = "exp"
    system: str = ""                     # record under this name ("" = print only)


def load_labelled(vec_dir):
    """<vec_dir>/ivector.scp + utt2spk -> (vectors (n, dim) float64, speaker labels (n,)); utterances
    of utt2spk without a vector (skipped at extraction) are reported."""
    scp, utt2spk = os.path.join(vec_dir, "ivector.scp"), os.path.join(vec_dir, "utt2spk")
    vectors = load_scp(scp)
    labels = read_map(utt2spk)
    missing = [u for u in labels if u not in vectors]
    if missing:
        print(f"WARNING: {len(missing)} utterances of {utt2spk} have no vector in {scp}, e.g. {missing[0]}")
    utts = sorted(u for u in labels if u in vectors)
    if not utts:
        raise KaldiTableError(f"{scp}: no vector for any utterance of {utt2spk}")
    unlabelled = [u for u in vectors if u not in labels]
    if unlabelled:
        raise KaldiTableError(f"{scp}: {unlabelled[0]} has no speaker in {utt2spk}")
    return np.stack([vectors[u] for u in utts]).astype(np.float64), [labels[u] for u in utts]


def main(argv=None):
    cfg, args = parse_options(IdentifySvmConfig, argv, positional=("train_dir", "val_dir", "test_dir"))
    try:
        grid = [float(c) for c in cfg.c_grid.split(",")]
        train, val, test = (load_labelled(d) for d in (args.train_dir, args.val_dir, args.test_dir))
        model, best_c, _ = choose_c(train, val, grid)
        acc = model.accuracy(*test)
    except (KaldiTableError, TableError, ValueError) as e:
        sys.exit(f"error: {e}")
    dim = train[0].shape[1]
    print(f"C={best_c:g} (best on validation); test ({len(test[1])} utterances, {len(model.classes)} "
          f"speakers): top-1 {acc[1]:.2f}%, top-5 {acc[5]:.2f}%")
    if cfg.system:
        record(cfg.exp_root, cfg.system, top1=acc[1], top5=acc[5], dim=dim)
        print(f"recorded {cfg.system} in {cfg.exp_root}/RESULTS")


if __name__ == "__main__":
    run_command(main)
