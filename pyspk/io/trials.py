"""Trial lists and score files.

Trials, Kaldi form (what pyspk writes): ``enroll test target|nontarget`` one a line.
Trials, VoxCeleb form (read only): ``1|0 path/a.wav path/b.wav``; a path maps to an id by
``pyspk.io.voxceleb.utt_id`` (extension stripped, ``/`` -> ``-``), e.g. ``id10270/x6uYqmx31kE/00001.wav`` ->
``id10270-x6uYqmx31kE-00001``.
Scores: ``enroll test score`` one a line, in trial order (pyspk writes the trials' ids; a score file
may name the sides by audio path instead, as most toolkits write VoxCeleb scores).
Every error names ``file:line``.
"""
import dataclasses
import math
import os

import numpy as np

from pyspk.io.atomic import atomic_write
from pyspk.io.voxceleb import utt_id


class TrialsError(ValueError):
    """A malformed trials or score file; the message names ``file:line``."""


@dataclasses.dataclass
class Trials:
    """A trial list: ``enroll[i]`` vs ``test[i]``, ``target[i]`` True for a same-speaker trial."""
    enroll: list
    test: list
    target: np.ndarray  # (n_trials,) bool
    path: str = "<memory>"

    def __len__(self):
        return len(self.enroll)

    def ids(self):
        """Sorted distinct ids named on either side."""
        return sorted(set(self.enroll) | set(self.test))

    def check_both_classes(self):
        """Fail (TrialsError naming the file) unless the list holds target and nontarget trials: a
        list left with one class (e.g. after utterances were skipped) has no EER or minDCF."""
        n_target = int(self.target.sum())
        if n_target == 0 or n_target == len(self):
            only = "target" if n_target else "nontarget"
            raise TrialsError(f"{self.path}: all {len(self)} trials are {only} trials; EER and minDCF need "
                              "both classes (were the utterances of some speakers skipped?)")

    def line_of(self, key):
        """``path:line`` of the first trial naming ``key`` (for error messages)."""
        for i, (e, t) in enumerate(zip(self.enroll, self.test), 1):
            if key in (e, t):
                return f"{self.path}:{i}"
        return self.path


_KALDI_LABELS = {"target": True, "nontarget": False}
_VOX_LABELS = {"1": True, "0": False}


def read_trials(path):
    """Read a trials file in Kaldi or VoxCeleb form (told apart by its first line) -> Trials.

    Wrong field counts, a label other than target/nontarget (or 1/0), a mix of the two forms and
    a repeated (enroll, test) pair are errors naming the line.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise TrialsError(f"{path}: no such trials file") from None
    if not lines:
        raise TrialsError(f"{path}: empty trials file")
    first = lines[0].split()
    voxceleb = len(first) == 3 and first[0] in _VOX_LABELS and first[2] not in _KALDI_LABELS
    enroll, test, target = [], [], []
    seen = {}
    for lineno, line in enumerate(lines, 1):
        fields = line.split()
        if len(fields) != 3:
            raise TrialsError(f"{path}:{lineno}: expected 3 fields, got {len(fields)}: {line!r}")
        if voxceleb:
            label, a, b = fields
            if label not in _VOX_LABELS:
                raise TrialsError(f"{path}:{lineno}: VoxCeleb trials label must be 1 or 0, got {label!r}")
            a, b, is_target = utt_id(a), utt_id(b), _VOX_LABELS[label]
        else:
            a, b, label = fields
            if label not in _KALDI_LABELS:
                raise TrialsError(f"{path}:{lineno}: label must be 'target' or 'nontarget', got {label!r}")
            is_target = _KALDI_LABELS[label]
        if (a, b) in seen:
            raise TrialsError(f"{path}:{lineno}: duplicate trial {a} {b} (first at line {seen[a, b]})")
        seen[a, b] = lineno
        enroll.append(a)
        test.append(b)
        target.append(is_target)
    return Trials(enroll, test, np.array(target, dtype=bool), path)


def write_trials(path, trials):
    """Write trials in Kaldi form, in their order, atomically."""
    with atomic_write(path) as f:
        for e, t, y in zip(trials.enroll, trials.test, trials.target):
            f.write(f"{e} {t} {'target' if y else 'nontarget'}\n")


def write_scores(path, trials, scores):
    """Write ``enroll test score`` lines in trial order, atomically (9 significant digits:
    float32 scores survive the round trip exactly)."""
    scores = np.asarray(scores)
    if scores.shape != (len(trials),):
        raise ValueError(f"{len(trials)} trials but scores of shape {scores.shape}")
    with atomic_write(path) as f:
        f.writelines(f"{e} {t} {s:.9g}\n" for e, t, s in zip(trials.enroll, trials.test, scores.tolist()))


def read_scores(path, trials):
    """Read a score file ``enroll test score`` -> float64 array (n_trials,) in trial order.

    The file may list the trials in any order (another system's file) and name each side by its id or
    by its audio path (``id10270/x6uYqmx31kE/00001.wav``, mapped by ``utt_id``), but it must score
    every trial exactly once and nothing else; scores must be finite numbers. Also returns the order
    in which the file lists the trials (for Kaldi's order-dependent tie handling in minDCF):
    ``(scores, file_order)`` with ``file_order[j]`` = trial index of the file's j-th line.
    """
    path = os.fspath(path)
    index = {(e, t): i for i, (e, t) in enumerate(zip(trials.enroll, trials.test))}
    scores = np.full(len(trials), np.nan)
    order = []
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise TrialsError(f"{path}: no such score file") from None
    with f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if len(fields) != 3:
                raise TrialsError(f"{path}:{lineno}: expected 'enroll test score', got {line.rstrip()!r}")
            key = (fields[0], fields[1])
            i = index.get(key)
            if i is None:
                i = index.get((utt_id(key[0]), utt_id(key[1])))
            if i is None:
                raise TrialsError(f"{path}:{lineno}: trial {key[0]} {key[1]} is not in {trials.path}")
            try:
                s = float(fields[2])
            except ValueError:
                raise TrialsError(f"{path}:{lineno}: score is not a number: {fields[2]!r}") from None
            if not math.isfinite(s):
                raise TrialsError(f"{path}:{lineno}: score is {fields[2]} (must be finite)")
            if not math.isnan(scores[i]):
                raise TrialsError(f"{path}:{lineno}: trial {key[0]} {key[1]} scored twice")
            scores[i] = s
            order.append(i)
    if len(order) != len(trials):
        missing = int(np.flatnonzero(np.isnan(scores))[0])
        raise TrialsError(f"{path}: scores {len(order)} of {len(trials)} trials; first missing: "
                          f"{trials.enroll[missing]} {trials.test[missing]} ({trials.path}:{missing + 1})")
    return scores, np.array(order, dtype=np.int64)
