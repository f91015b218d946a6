"""Stage 0: VoxCeleb1 (identification splits, verification test set and trial lists) and, optionally,
a VoxCeleb2 dev training corpus -> Kaldi data dirs.

Test corpus root (VoxCeleb1 layout)::

    wav/<speaker>/<session>/<n>.wav|.flac|.m4a   audio (also accepted without the wav/ level, or in
                      vox1_dev_wav/wav/ and vox1_test_wav/wav/ as VoxCeleb1's archives unpack)
    iden_split.txt    ``1|2|3 <speaker>/<session>/<n>.wav``: identification train / validation / test
    veri_test.txt, veri_test2.txt, list_test_all.txt, list_test_all2.txt, list_test_hard.txt,
    list_test_hard2.txt   ``1|0 <path> <path>``: the trial lists vox1_O, vox1_O_clean, vox1_E,
                      vox1_E_clean, vox1_H, vox1_H_clean (any of them)
    vox1_meta.csv, vox2_meta.csv or meta.csv (optional): a table with speaker id and gender columns

Data dirs written under ``data_root``: ``all`` (every usable utterance), ``iden_{train,val,test}``
(iden_split.txt), ``veri_test`` (every utterance of the speakers named in the trial lists used, with
``trials_<list name>`` for each list and ``trials`` = vox1_O), ``veri_train`` (the verification
training speakers: VoxCeleb1's other speakers, or the whole training corpus when one is given) and
``veri_val`` (validation utterances of the veri_train speakers, held out of training by the trainer).
The E and H lists name utterances of all 1,251 VoxCeleb1 speakers, so with them ``veri_test`` is all
of VoxCeleb1 and the verification training speakers must come from another corpus (VoxCeleb2).
A split that cannot be made is warned about and not written; the stages needing it refuse to run.
Utterance and speaker ids: ``pyspk.io.voxceleb``.
"""
import contextlib
import heapq
import logging
import os

from pyspk.corpora import voxceleb2
from pyspk.corpora.audio_files import NOT_IN_COPY, find_audio, has_speaker_folder, ordered_map, probe_file
from pyspk.corpora.datadir_writer import DataDirWriter
from pyspk.corpora.voxceleb_lists import (CorpusError, find_meta, find_trial_lists, read_genders,
                                          read_iden_split, read_voxceleb_trials)
from pyspk.io.atomic import atomic_write
from pyspk.io.tables import sort_key
from pyspk.io.voxceleb import speaker_id, utt_id

logger = logging.getLogger(__name__)

DATA_DIRS = ("all", "iden_train", "iden_val", "iden_test", "veri_train", "veri_val", "veri_test")
# What a missing split means for the user, by data dir.
EMPTY_REASONS = {
    "iden_train": "iden_split.txt has no '1' (train) line with audio",
    "iden_val": "iden_split.txt has no '2' (validation) line with audio",
    "iden_test": "iden_split.txt has no '3' (test) line with audio",
    "veri_test": "no trial list (veri_test.txt, list_test_hard.txt, ...) names an utterance with audio",
    "veri_train": "every speaker of the corpus is in a trial list; give a training corpus "
                  "(--train-corpus-root, VoxCeleb2 dev) to train verification systems",
    "veri_val": "no validation utterance of a verification training speaker (iden_split.txt '2' lines)",
}


def _probe_listed(corpus_root, path):
    """One listed path -> (wav.scp entry or file, duration s or None, reason or None)."""
    audio = find_audio(corpus_root, path)
    if audio is None:
        reason = "no such file" if has_speaker_folder(corpus_root, speaker_id(path)) else NOT_IN_COPY
        return os.path.join(os.path.abspath(corpus_root), "wav", path), None, reason
    return (audio, *probe_file(audio))


def _check_bad(corpus, listed, bad, absent, max_bad_fraction):
    """Log the skipped utterances; raise when nothing is usable or too much is bad."""
    for utt, file, reason in bad:
        logger.warning(f"WARNING: skipping {utt} ({file}): {reason}")
    if absent:
        logger.warning(f"WARNING: {absent} listed utterances left out: {NOT_IN_COPY}")
    usable = listed - len(bad) - absent
    logger.info(f"prepare_voxceleb: {corpus}: {usable} of {listed} utterances usable, {len(bad)} skipped"
                + (f", {absent} of speakers not in this copy" if absent else ""))
    if usable == 0:
        raise CorpusError(f"{corpus}: no usable audio among {listed} listed utterances")
    if len(bad) > max_bad_fraction * (listed - absent):
        raise CorpusError(f"{corpus}: {len(bad)} of {listed - absent} utterances unusable, more than "
                          f"--max-bad-fraction={max_bad_fraction}")


def _read_test_corpus(corpus_root, trial_lists, max_bad_fraction, num_threads):
    """-> (found: utt -> (entry, duration), utt2spk of found, split: list of (name, path),
    trials: list name -> list of (is_target, utterance a, utterance b), the speakers the trials name)."""
    split_path = os.path.join(corpus_root, "iden_split.txt")
    split = read_iden_split(split_path) if os.path.isfile(split_path) else []
    lists = find_trial_lists(corpus_root, trial_lists)
    if not split and not lists:
        raise CorpusError(f"{corpus_root}: neither iden_split.txt nor a VoxCeleb trial list (veri_test.txt, ...)")
    if not split:
        logger.warning(f"WARNING: {split_path}: no such file; no identification splits")
    paths = {utt_id(p): p for _, p in split}
    utt_of = {}  # path -> utterance id, worked out once per distinct path of the trial lists

    def utt(path):
        if path not in utt_of:
            utt_of[path] = utt_id(path)
            paths.setdefault(utt_of[path], path)
        return utt_of[path]
    trials = {name: [(y, utt(a), utt(b)) for y, a, b in read_voxceleb_trials(path)] for name, path in lists.items()}
    logger.info(f"prepare_voxceleb: {len(paths)} utterances listed in {corpus_root} "
                f"({'iden_split.txt, ' if split else ''}trial lists: {' '.join(lists) or 'none'})")
    listed = sorted(paths, key=sort_key)
    found, bad, absent = {}, [], 0
    probed = ordered_map(lambda u: _probe_listed(corpus_root, paths[u]), listed, num_threads)
    for utt, (entry, duration, reason) in zip(listed, probed):
        if reason is None:
            found[utt] = (entry, duration)
        elif reason == NOT_IN_COPY:
            absent += 1
        else:
            bad.append((utt, entry, reason))
    _check_bad(corpus_root, len(listed), bad, absent, max_bad_fraction)
    test_speakers = {speaker_id(p) for p in utt_of}
    return found, {u: speaker_id(paths[u]) for u in found}, split, trials, test_speakers


def _train_corpus_records(root, bad, num_threads):
    """The training corpus's usable utterances, sorted -> iterator of (utt, speaker, entry,
    duration, is_validation); unusable ones are appended to ``bad`` as (utt, file, reason)."""
    audio_root = voxceleb2.find_audio_root(root)
    items = voxceleb2.list_corpus(audio_root)

    def probe(item):
        return item, os.path.join(audio_root, item[0]), probe_file(os.path.join(audio_root, item[0]))
    for (path, is_val), file, (duration, reason) in ordered_map(probe, items, num_threads):
        if reason is None:
            yield utt_id(path), speaker_id(path), file, duration, is_val
        else:
            bad.append((utt_id(path), file, reason))


def _write_trials(data_root, trials, found):
    """Write ``veri_test/trials_<name>`` (and ``trials`` for vox1_O) in list order, keeping the
    trials whose two utterances are usable; repeated pairs are dropped."""
    for name, rows in trials.items():
        kept, seen, repeated = [], set(), 0
        for y, a, b in rows:
            if (a, b) in seen:
                repeated += 1
            elif a in found and b in found:
                kept.append(f"{a} {b} {'target' if y else 'nontarget'}\n")
            seen.add((a, b))
        for file in [f"trials_{name}"] + (["trials"] if name == "vox1_O" else []):
            with atomic_write(os.path.join(data_root, "veri_test", file)) as f:
                f.writelines(kept)
        logger.info(f"prepare_voxceleb: {name}: kept {len(kept)} of {len(rows)} trials "
                    f"({len(rows) - len(kept) - repeated} dropped: they name skipped utterances; "
                    f"{repeated} repeated pairs dropped)")


def prepare_data_dirs(corpus_root, data_root, train_corpus_root=None, trial_lists=None,
                      max_bad_fraction=0.5, num_threads=16):
    """Stage 0 (see the module docstring): write the data dirs that can be made, warn about the others.

    ``trial_lists``: names of the trial lists to use (default: every one present). Every listed
    utterance whose audio is missing or unreadable is logged as ``WARNING: skipping <utt> (<file>):
    <reason>`` and left out, as are the trials naming it; utterances of speakers with no audio folder
    at all (a partial download, e.g. VoxCeleb1's test part alone) are counted apart. Raises
    CorpusError when a corpus has nothing usable or more than ``max_bad_fraction`` bad files.
    Returns dict data dir name -> number of utterances (0 for a split not made).
    """
    found, utt2spk, split, trials, test_speakers = _read_test_corpus(corpus_root, trial_lists, max_bad_fraction,
                                                                     num_threads)
    meta = find_meta(corpus_root)
    genders = read_genders(meta) if meta else {}
    if train_corpus_root:
        train_meta = find_meta(train_corpus_root)
        genders.update(read_genders(train_meta) if train_meta else {})
    in_split = {utt_id(p): name for name, p in split}
    test_records = ((utt, utt2spk[utt], *found[utt], False) for utt in sorted(found, key=sort_key))
    train_bad = []
    sources = [test_records]
    if train_corpus_root:
        sources.append(_train_corpus_records(train_corpus_root, train_bad, num_threads))
    dirs = {name: os.path.join(data_root, name) for name in DATA_DIRS}
    with contextlib.ExitStack() as stack:
        writers = {name: stack.enter_context(DataDirWriter(path, genders)) for name, path in dirs.items()}
        train_utts = 0
        for utt, spk, entry, duration, is_val in heapq.merge(*sources, key=lambda r: sort_key(r[0])):
            targets = ["all"]
            if utt in found:
                if utt in in_split:
                    targets.append(in_split[utt])
                if spk in test_speakers:
                    targets.append("veri_test")
                elif not train_corpus_root:
                    targets.append("veri_train")
                    if in_split.get(utt) == "iden_val":
                        targets.append("veri_val")
            else:
                train_utts += 1
                targets += ["veri_train", "veri_val"] if is_val else ["veri_train"]
            for name in targets:
                writers[name].add(utt, spk, entry, duration)
        if train_corpus_root:
            _check_bad(train_corpus_root, train_utts + len(train_bad), train_bad, 0, max_bad_fraction)
    if trials and writers["veri_test"].num_utts:
        _write_trials(data_root, trials, found)
    counts = {}
    for name, writer in writers.items():
        counts[name] = writer.num_utts
        if not writer.num_utts:
            logger.warning(f"WARNING: {dirs[name]} not made: {EMPTY_REASONS.get(name, 'no utterance')}")
            continue
        logger.info(f"prepare_voxceleb: {dirs[name]}: {writer.num_utts} utterances, {len(writer.speakers)} speakers")
    return counts
