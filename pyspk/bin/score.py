"""Score a trial list with embeddings: cosine or PLDA, optional mean/LDA/length norm and AS-norm.

    python -m pyspk.bin.score [options] <trials> <vectors.scp> <scores-out>

Trials name keys of vectors.scp (utterance or speaker vectors). --train-vectors (with the
utt2spk of --train-data) gives the mean, the LDA/PLDA training data and the AS-norm cohort.
Writes ``enroll test score`` lines in trial order, atomically.
"""
import dataclasses
import sys
import time

import numpy as np

from pyspk.bin.options import parse_options, run_command
from pyspk.io.datadir import DataDir
from pyspk.io.kaldi_table import load_scp, read_scp_keys
from pyspk.io.trials import read_trials, write_scores
from pyspk.scoring import ScoringOptions, score_trials, stack_vectors


@dataclasses.dataclass
class Options(ScoringOptions):
    """Score trials; see docs/scoring.md."""
    train_vectors: str = ""     # scp of train-set vectors (mean, LDA, PLDA, AS-norm cohort)
    train_data: str = ""        # data dir whose utt2spk labels the train vectors
    mean_norm: str = "auto"     # true | false | auto (true when --train-vectors is given)


def log(msg):
    print(msg, file=sys.stderr)


def load_train(opts):
    """(vectors (n, d), speaker labels (n,) or None) from --train-vectors / --train-data."""
    table = load_scp(opts.train_vectors)
    keys = read_scp_keys(opts.train_vectors)
    labels = None
    if opts.train_data:
        utt2spk = DataDir(opts.train_data).utt2spk
        missing = sum(1 for u in utt2spk if u not in table)
        if missing:
            log(f"score: {missing} of {len(utt2spk)} utterances of {opts.train_data} have no vector "
                f"in {opts.train_vectors}; training without them")
        keys = [u for u in keys if u in utt2spk]
        if not keys:
            sys.exit(f"score: no key of {opts.train_vectors} is an utterance of {opts.train_data}/utt2spk")
        labels = np.array([utt2spk[u] for u in keys])
    return stack_vectors(keys, [table[k] for k in keys], opts.train_vectors), labels


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["trials", "vectors", "scores_out"])
    if opts.mean_norm not in ("auto", "true", "false"):
        raise ValueError(f"--mean-norm must be auto, true or false, not {opts.mean_norm!r}")
    opts = dataclasses.replace(opts, mean_norm=opts.mean_norm == "true"
                               or (opts.mean_norm == "auto" and bool(opts.train_vectors)))
    if opts.train_data and not opts.train_vectors:
        sys.exit("score: --train-data labels --train-vectors, which is not given")
    start = time.time()
    try:
        trials = read_trials(args.trials)
        trials.check_both_classes()
        table = load_scp(args.vectors)
        vectors = {k: table[k] for k in trials.ids() if k in table}
        train = labels = None
        if opts.train_vectors:
            train, labels = load_train(opts)
            speakers = "" if labels is None else f" of {len(set(labels))} speakers"
            log(f"score: {len(train)} train vectors{speakers}")
        scores = score_trials(opts, vectors, trials, train, labels, sources=(args.vectors, opts.train_vectors))
        write_scores(args.scores_out, trials, scores)
    except (ValueError, KeyError) as e:
        sys.exit(f"score: {e.args[0] if isinstance(e, KeyError) else e}")
    log(f"score: {len(trials)} trials over {len(vectors)} vectors, backend {opts.backend}"
        f"{f', AS-norm top {opts.asnorm_top_n}' if opts.asnorm_top_n else ''} -> {args.scores_out} "
        f"({time.time() - start:.1f} s)")


if __name__ == "__main__":
    run_command(main)
