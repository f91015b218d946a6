"""GMM-UBM verification: each enrolment utterance's model is the UBM with MAP-adapted means; a trial's
score is the test utterance's average frame log-likelihood ratio, model vs UBM, over each frame's
top-C UBM Gaussians.

    python -m pyspk.bin.score_gmm_ubm [--relevance-factor 16 --top-c 5] [--job J --num-jobs N] \\
        <ubm> <data-dir> <trials> <scores-out>

Enrolment and test ids are utterances of <data-dir> (feats.scp + vad.scp). With --num-jobs N the job
scores the J-th contiguous part of the trials (the step concatenates the parts in order). A trial
whose utterance has no usable frames is reported and left out of <scores-out>; <scores-out>.trials
lists the trials scored (the trials file to compute metrics on).
"""
import dataclasses
import logging

import numpy as np
import torch

from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.gmm import DiagGmm
from pyspk.backend.gmm_stats import GmmStats, accumulate
from pyspk.backend.gmm_ubm import LlrScorer, map_adapt_means
from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.trials import Trials, read_trials, write_scores, write_trials

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options(FrameOptions):
    """Score trials with MAP-adapted GMMs against the UBM."""

    relevance_factor: float = 16.0
    top_c: int = 5                 # Gaussians per frame in the log-likelihood ratio
    job: int = 1
    num_jobs: int = 1
    device: str = "auto"
    num_threads: int = 1


def job_slice(n, job, num_jobs):
    """Contiguous part ``job`` (1-based) of ``num_jobs`` over n items -> slice."""
    if not 1 <= job <= num_jobs:
        raise ValueError(f"--job must be in 1..{num_jobs}, got {job}")
    return slice((job - 1) * n // num_jobs, job * n // num_jobs)


def subset(trials, index):
    """The trials at positions ``index`` (array of ints or a slice), in that order."""
    enroll, test = np.asarray(trials.enroll, dtype=object)[index], np.asarray(trials.test, dtype=object)[index]
    return Trials(list(enroll), list(test), trials.target[index], trials.path)


def score_trials(ubm, data_dir, trials, opts):
    """-> (T,) float64 scores of ``trials`` (NaN where an utterance had no usable frames)."""
    llr = LlrScorer(ubm, opts.top_c, opts.device)
    models = {}
    for utt, frames in iter_frames(data_dir, opts, utts=sorted(set(trials.enroll))):
        stats = GmmStats.empty(ubm.num_gauss, ubm.dim)
        accumulate(llr.ubm_scorer, frames, stats)
        models[utt] = llr.speaker_means(map_adapt_means(ubm, stats, opts.relevance_factor))
    logger.info(f"enrolled {len(models)} utterances (relevance factor {opts.relevance_factor:g})")
    by_test = {}
    for i, (e, t) in enumerate(zip(trials.enroll, trials.test)):
        if e in models:
            by_test.setdefault(t, []).append(i)
    scores = np.full(len(trials), np.nan)
    for utt, frames in iter_frames(data_dir, opts, utts=sorted(by_test)):
        prepared = llr.prepare(frames)
        for i in by_test[utt]:
            scores[i] = llr.score(models[trials.enroll[i]], prepared)
    return scores


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("ubm", "data_dir", "trials", "scores_out"))
    torch.set_num_threads(opts.num_threads)
    ubm = DiagGmm.load(args.ubm)
    all_trials = read_trials(args.trials)
    all_trials.check_both_classes()   # a list left with one class has no EER: fail before scoring
    trials = subset(all_trials, job_slice(len(all_trials), opts.job, opts.num_jobs))
    scores = score_trials(ubm, args.data_dir, trials, opts)
    done = np.flatnonzero(~np.isnan(scores))
    if len(done) == 0:
        raise ValueError(f"no trial of {args.trials} (job {opts.job}/{opts.num_jobs}) could be scored")
    if len(done) < len(trials):
        logger.warning(f"WARNING: {len(trials) - len(done)} of {len(trials)} trials left out (utterances "
                       f"without usable frames, see above)")
    write_scores(args.scores_out, subset(trials, done), scores[done])
    write_trials(args.scores_out + ".trials", subset(trials, done))
    logger.info(f"scored {len(done)} trials -> {args.scores_out} (trials scored: {args.scores_out}.trials)")


if __name__ == "__main__":
    run_command(main)
