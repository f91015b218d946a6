"""GMM-UBM verification: each enrolment utterance's model is the UBM with MAP-adapted means; a trial's
score is the test utterance's average frame log-likelihood ratio, model vs UBM, over each frame's
top-C UBM Gaussians.

    python -m pyspk.bin.score_gmm_ubm [--relevance-factor 16 --top-c 5] [--job J --num-jobs N] \\
        <ubm> <data-dir> <trials> <scores-out>

Enrolment and test ids are utterances of <data-dir> (feats.scp + vad.scp). With --num-jobs N the job
scores the J-th contiguous part of the trials (the step concatenates the parts in order). A trial
whose utterance has no usable frames is reported and left out of <scores-out> (the step writes
the trials scored beside it).
"""
import dataclasses
import sys

import numpy as np
import torch

from pyspk.backend.frames import FrameOptions, FramesError, iter_frames
from pyspk.backend.gmm import DiagGmm, GmmError, GmmStats, LlrScorer, accumulate, map_adapt_means
from pyspk.bin.options import parse_options, run_command
from pyspk.io.trials import Trials, read_trials, write_scores


@dataclasses.dataclass
class ScoreGmmUbmConfig(FrameOptions):
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


def main(argv=None):
    cfg, args = parse_options(ScoreGmmUbmConfig, argv, positional=("ubm", "data_dir", "trials", "scores_out"))
    torch.set_num_threads(cfg.num_threads)
    try:
        ubm = DiagGmm.load(args.ubm)
        all_trials = read_trials(args.trials)
        part = job_slice(len(all_trials), cfg.job, cfg.num_jobs)
        trials = Trials(all_trials.enroll[part], all_trials.test[part], all_trials.target[part], all_trials.path)
        llr = LlrScorer(ubm, cfg.top_c, cfg.device)
        models = {}
        for utt, frames in iter_frames(args.data_dir, cfg, utts=sorted(set(trials.enroll))):
            stats = GmmStats.empty(ubm.num_gauss, ubm.dim)
            accumulate(llr.ubm_scorer, frames, stats)
            models[utt] = llr.speaker_means(map_adapt_means(ubm, stats, cfg.relevance_factor))
        print(f"enrolled {len(models)} utterances (relevance factor {cfg.relevance_factor:g})")
        by_test = {}
        for i, (e, t) in enumerate(zip(trials.enroll, trials.test)):
            if e in models:
                by_test.setdefault(t, []).append(i)
        scores = np.full(len(trials), np.nan)
        for utt, frames in iter_frames(args.data_dir, cfg, utts=sorted(by_test)):
            prepared = llr.prepare(frames)
            for i in by_test[utt]:
                scores[i] = llr.score(models[trials.enroll[i]], prepared)
    except (FramesError, GmmError, ValueError) as e:
        sys.exit(f"error: {e}")
    done = ~np.isnan(scores)
    if not done.any():
        sys.exit(f"error: no trial of {args.trials} (job {cfg.job}/{cfg.num_jobs}) could be scored")
    if not done.all():
        print(f"WARNING: {np.count_nonzero(~done)} of {len(trials)} trials left out (utterances without "
              f"usable frames, see above)")
        keep = np.flatnonzero(done)
        trials = Trials([trials.enroll[i] for i in keep], [trials.test[i] for i in keep],
                        trials.target[keep], trials.path)
        scores = scores[keep]
    write_scores(args.scores_out, trials, scores)
    print(f"scored {len(trials)} trials -> {args.scores_out}")


if __name__ == "__main__":
    run_command(main)
