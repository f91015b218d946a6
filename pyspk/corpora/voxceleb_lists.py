"""The text lists VoxCeleb ships: identification split, verification trial lists, speaker metadata.

Every reader raises ``CorpusError`` naming ``file:line`` on a malformed line.
"""
import csv
import os

from pyspk.io.tables import TableError, iter_fields
from pyspk.io.voxceleb import utt_id

AUDIO_EXTENSIONS = (".wav", ".flac", ".m4a")
SPLITS = {"1": "iden_train", "2": "iden_val", "3": "iden_test"}
META_FILES = ("vox1_meta.csv", "vox2_meta.csv", "meta.csv")
# VoxCeleb1's verification lists (file in the corpus root -> trial-list name); "2" files are the
# cleaned versions. O(riginal) uses the 40 test speakers; E(xtended) and H(ard) all 1,251 speakers.
TRIAL_LISTS = {"veri_test.txt": "vox1_O", "veri_test2.txt": "vox1_O_clean",
               "list_test_all.txt": "vox1_E", "list_test_all2.txt": "vox1_E_clean",
               "list_test_hard.txt": "vox1_H", "list_test_hard2.txt": "vox1_H_clean"}


class CorpusError(ValueError):
    """A malformed or unusable corpus; the message names the file (and line)."""


def check_path(list_path, lineno, path):
    """Refuse a listed path that is not ``<speaker>/.../<file>.<audio extension>``."""
    if path.startswith("/") or ".." in path.split("/") or path.count("/") < 1:
        raise CorpusError(f"{list_path}:{lineno}: expected a relative path <speaker>/.../<file>, got {path!r}")
    if os.path.splitext(path)[1].lower() not in AUDIO_EXTENSIONS:
        raise CorpusError(f"{list_path}:{lineno}: {path!r} does not end in one of {', '.join(AUDIO_EXTENSIONS)}")


def _lines(path):
    """Yield (line number, fields) of the non-blank lines of a list file."""
    try:
        yield from ((lineno, fields) for lineno, fields in iter_fields(path) if fields)
    except TableError as e:
        raise CorpusError(str(e)) from None


def read_iden_split(path):
    """iden_split.txt -> list of (split name, relative path) in file order; repeats are errors."""
    out, seen = [], {}
    for lineno, fields in _lines(path):
        if len(fields) != 2 or fields[0] not in SPLITS:
            raise CorpusError(f"{path}:{lineno}: expected '1|2|3 <path>', got {' '.join(fields)!r}")
        check_path(path, lineno, fields[1])
        utt = utt_id(fields[1])
        if utt in seen:
            raise CorpusError(f"{path}:{lineno}: utterance {utt} listed again (first at line {seen[utt]})")
        seen[utt] = lineno
        out.append((SPLITS[fields[0]], fields[1]))
    if not out:
        raise CorpusError(f"{path}: empty")
    return out


def read_voxceleb_trials(path):
    """A VoxCeleb trial list (veri_test.txt, list_test_hard2.txt, ...) -> list of
    (is_target, relative path a, relative path b) in file order.

    Each distinct path is checked and stored once (VoxCeleb1-E's 581,480 trials name 145,375
    utterances), which keeps a million-trial list to a few seconds and a few hundred MB."""
    out, known = [], {}
    for lineno, fields in _lines(path):
        if len(fields) != 3 or fields[0] not in ("0", "1"):
            raise CorpusError(f"{path}:{lineno}: expected '1|0 <path> <path>', got {' '.join(fields)!r}")
        pair = []
        for p in fields[1:]:
            if p not in known:
                check_path(path, lineno, p)
                known[p] = p
            pair.append(known[p])
        out.append((fields[0] == "1", *pair))
    if not out:
        raise CorpusError(f"{path}: empty")
    return out


def find_trial_lists(corpus_root, names=None):
    """The VoxCeleb trial lists present in ``corpus_root`` -> dict list name -> file path, in
    TRIAL_LISTS order. ``names``: only these list names (an unknown or absent one is an error)."""
    found = {name: os.path.join(corpus_root, file) for file, name in TRIAL_LISTS.items()
             if os.path.isfile(os.path.join(corpus_root, file))}
    if names is None:
        return found
    for name in names:
        if name not in TRIAL_LISTS.values():
            raise CorpusError(f"unknown trial list {name!r} (known: {' '.join(TRIAL_LISTS.values())})")
        if name not in found:
            file = next(f for f, n in TRIAL_LISTS.items() if n == name)
            raise CorpusError(f"{os.path.join(corpus_root, file)}: no such file (trial list {name})")
    return {name: path for name, path in found.items() if name in names}


def find_meta(corpus_root):
    """The speaker metadata table in ``corpus_root`` (vox1_meta.csv, vox2_meta.csv, meta.csv) or None."""
    return next((os.path.join(corpus_root, m) for m in META_FILES
                 if os.path.isfile(os.path.join(corpus_root, m))), None)


def read_genders(path):
    """A speaker metadata table (VoxCeleb's vox1_meta.csv / vox2_meta.csv, or our meta.csv) ->
    dict speaker -> m|f.

    Tab- or comma-separated with a header line (a UTF-8 byte-order mark and blanks around fields,
    as in vox2_meta.csv, are ignored); the speaker column is the first whose name contains "id" or
    "speaker", the gender column the one named "gender" (any case). Values m/male, f/female.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = f.read().splitlines()
    if not lines:
        raise CorpusError(f"{path}: empty")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    spk_col = next((i for i, h in enumerate(header) if "speaker" in h or h.split()[-1:] == ["id"]), None)
    gender_col = next((i for i, h in enumerate(header) if h == "gender"), None)
    if spk_col is None or gender_col is None:
        raise CorpusError(f"{path}:1: need a speaker id column and a gender column, header is {rows[0]!r}")
    genders = {}
    for lineno, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(spk_col, gender_col):
            raise CorpusError(f"{path}:{lineno}: expected {len(header)} fields, got {len(row)}")
        value = row[gender_col].strip().lower()
        gender = {"m": "m", "male": "m", "f": "f", "female": "f"}.get(value)
        if gender is None:
            raise CorpusError(f"{path}:{lineno}: gender must be m|f|male|female, got {row[gender_col]!r}")
        genders[row[spk_col].strip()] = gender
    return genders
