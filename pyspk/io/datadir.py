"""Kaldi data directories: the only interface between steps.

A data dir holds sorted text tables keyed by utterance (``wav.scp``, ``utt2spk``, ``utt2dur``,
``feats.scp``, ``vad.scp``, ...) or by speaker (``spk2utt``, ``spk2gender``), and optionally
``trials`` (``enroll test target|nontarget``). See docs/data.md for every format.

A dir whose features were cut from another dir's (``subset_data_dir(..., feats_from=...)``) records
the SHA-1 of each source table in ``feats_source``; opening it (:class:`DataDir`) refuses once a source
table has changed or gone, so it can never outlive the archives its ``feats.scp`` points into.
"""
import hashlib
import logging
import os

from pyspk.io.tables import TableError, read_list_map, read_map, read_table, sort_key, write_map, write_table

logger = logging.getLogger(__name__)

UTT_FILES = ("wav.scp", "utt2spk", "utt2dur", "feats.scp", "vad.scp", "utt2num_frames")
SPK_FILES = ("spk2gender",)
FEATURE_FILES = ("feats.scp", "vad.scp", "utt2num_frames")
FEATS_SOURCE = "feats_source"   # "<source table path> <sha1>" lines of a dir cut with feats_from


class DataDirError(ValueError):
    """An inconsistent data dir; the message names the file and line or key."""


class DataDir:
    """Read access to a data dir. ``utt2spk`` is required; other tables are read on demand."""

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.isdir(self.path):
            raise DataDirError(f"{self.path}: no such data directory")
        self.utt2spk = read_map(self.file("utt2spk"))
        self.utts = sorted(self.utt2spk, key=sort_key)
        check_feats_source(self.path)

    def file(self, name):
        """Path of a table inside the dir (it may not exist)."""
        return os.path.join(self.path, name)

    def has(self, name):
        return os.path.isfile(self.file(name))

    def read(self, name):
        """A per-utterance or per-speaker table as a dict key -> rest of line."""
        return read_map(self.file(name))

    @property
    def spk2utt(self):
        """dict speaker -> sorted list of utterances, derived from utt2spk."""
        return group_by_speaker(self.utt2spk)

    @property
    def speakers(self):
        return sorted(set(self.utt2spk.values()), key=sort_key)

    @property
    def wav_scp(self):
        return self.read("wav.scp")

    @property
    def feats_scp_path(self):
        return self.file("feats.scp")


_digests = {}  # (path, mtime_ns, size) -> sha1, so a process hashes each source table once


def _sha1(path):
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    if key not in _digests:
        with open(path, "rb") as f:
            _digests[key] = hashlib.file_digest(f, "sha1").hexdigest()
    return _digests[key]


def check_feats_source(path):
    """Raise DataDirError when ``path`` was cut from feature tables that have changed or gone since
    (its feats.scp may point into rewritten archives); no ``feats_source`` file: nothing to check."""
    stamp = os.path.join(path, FEATS_SOURCE)
    if not os.path.isfile(stamp):
        return
    try:
        sources = read_map(stamp)
    except TableError as e:
        raise DataDirError(str(e)) from None
    for table, digest in sources.items():
        if not os.path.isfile(table):
            reason = "is missing (being rewritten, or its step failed)"
        elif _sha1(table) != digest:
            reason = "has been rewritten since"
        else:
            continue
        raise DataDirError(f"{path}: its features were cut from {table}, which {reason}; remake {path} "
                           f"(utils/subset_data_dir.sh --feats-from {os.path.dirname(table)} ...)")


def _set_aside(path):
    """Move a stale table into ``.backup/`` beside it (kept, never deleted)."""
    backup = os.path.join(os.path.dirname(path), ".backup")
    os.makedirs(backup, exist_ok=True)
    os.replace(path, os.path.join(backup, os.path.basename(path)))


def group_by_speaker(utt2spk):
    """dict utterance -> speaker  ->  dict speaker -> utterances in C-locale order (spk2utt)."""
    spk2utt = {}
    for utt in sorted(utt2spk, key=sort_key):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return spk2utt


def trial_files(path):
    """The trial lists of a data dir: ``trials`` and every ``trials_<list name>``, sorted."""
    return sorted(f for f in os.listdir(path) if f == "trials" or f.startswith("trials_"))


def write_spk2utt(data_dir, utt2spk):
    """Write ``<data_dir>/spk2utt`` from a dict utterance -> speaker, atomically."""
    write_map(os.path.join(data_dir, "spk2utt"), group_by_speaker(utt2spk))


def _check_sorted_unique(path):
    prev = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                raise DataDirError(f"{path}:{lineno}: empty line")
            key = sort_key(fields[0])
            if prev is not None and key <= prev:
                what = "duplicate key" if key == prev else "not sorted (LC_ALL=C sort)"
                raise DataDirError(f"{path}:{lineno}: {what} at {fields[0]!r}")
            prev = key


def validate_data_dir(path, need_feats=False, need_wav=True):
    """Check a data dir like Kaldi's validate_data_dir.sh; raise DataDirError naming the problem.

    Checks: every table sorted and without duplicates; utterance ids start with their speaker id;
    spk2utt is the inverse of utt2spk; every per-utterance table covers exactly the utterances of
    utt2spk (feats.scp / vad.scp may cover fewer only if ``need_feats`` is False); trials name only
    utterances or speakers of the dir with labels target|nontarget. Returns the DataDir.
    """
    path = os.fspath(path)
    for name in ("utt2spk", "spk2utt", *UTT_FILES, *SPK_FILES):
        if os.path.isfile(os.path.join(path, name)):
            try:
                _check_sorted_unique(os.path.join(path, name))
            except TableError as e:
                raise DataDirError(str(e)) from None
    try:
        d = DataDir(path)
        for lineno, utt in enumerate(d.utts, 1):
            spk = d.utt2spk[utt]
            if not (utt == spk or utt.startswith(spk + "-") or utt.startswith(spk + "_")):
                raise DataDirError(f"{d.file('utt2spk')}:{lineno}: utterance {utt!r} does not start with "
                                   f"its speaker id {spk!r} (sorting by utterance must sort by speaker)")
        if not d.has("spk2utt"):
            raise DataDirError(f"{d.file('spk2utt')}: missing (utils/fix_data_dir.sh makes it)")
        spk2utt = read_list_map(d.file("spk2utt"))
        if spk2utt != d.spk2utt:
            bad = min((s for s in set(spk2utt) | set(d.spk2utt) if spk2utt.get(s) != d.spk2utt.get(s)), key=sort_key)
            raise DataDirError(f"{d.file('spk2utt')}: disagrees with utt2spk for speaker {bad!r}")
        utts = set(d.utts)
        required = ["wav.scp"] if need_wav else []
        if need_feats:
            required.append("feats.scp")
        for name in UTT_FILES:
            if name == "utt2spk" or not (d.has(name) or name in required):
                continue
            if not d.has(name):
                raise DataDirError(f"{d.file(name)}: missing")
            keys = set(d.read(name))
            extra = sorted(keys - utts, key=sort_key)
            if extra:
                raise DataDirError(f"{d.file(name)}: utterance {extra[0]!r} is not in utt2spk "
                                   f"({len(extra)} such; utils/fix_data_dir.sh removes them)")
            missing = sorted(utts - keys, key=sort_key)
            if missing and (name not in FEATURE_FILES or need_feats):
                raise DataDirError(f"{d.file(name)}: has no entry for utterance {missing[0]!r} "
                                   f"({len(missing)} such; utils/fix_data_dir.sh removes them)")
        if d.has("spk2gender"):
            for spk, gender in d.read("spk2gender").items():
                if gender not in ("m", "f"):
                    raise DataDirError(f"{d.file('spk2gender')}: speaker {spk!r} has gender {gender!r}, not m|f")
        known = utts | set(d.speakers)
        for trials in trial_files(path):
            for lineno, row in enumerate(read_table(d.file(trials), 3, 3), 1):
                if row[2] not in ("target", "nontarget"):
                    raise DataDirError(f"{d.file(trials)}:{lineno}: label {row[2]!r} is not target|nontarget")
                for key in row[:2]:
                    if key not in known:
                        raise DataDirError(f"{d.file(trials)}:{lineno}: {key!r} is not an utterance or speaker of {path}")
    except TableError as e:
        raise DataDirError(str(e)) from None
    return d


def subset_data_dir(src, dst, utts=None, feats_from=None, level=logging.INFO):
    """Make ``dst`` from ``src`` keeping only ``utts`` (an iterable, None = all; ids not in ``src``
    are ignored). ``dst`` may be ``src`` (filter in place).

    With ``feats_from`` (a data dir holding features for a superset, e.g. ``data/all_spec``), its
    feats.scp / vad.scp / utt2num_frames replace ``src``'s, and only utterances that have features
    there are kept (utterances skipped at extraction thus leave every split, and the trials naming them).
    ``dst`` then records their checksums in ``feats_source`` (carried on to subsets of ``dst``).
    Every per-utterance table is filtered, spk2utt and spk2gender recomputed, and ``trials`` keeps the
    lines whose two sides are both kept (by utterance or speaker). Tables are written atomically; a
    feature table of ``dst`` that the subset does not replace is moved to ``dst/.backup``, never deleted.
    Logs (at ``level``) how many utterances and trials were dropped. Returns the number of utterances kept.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    d = DataDir(src)
    keep = set(d.utts) if utts is None else set(utts) & set(d.utts)
    tables = {name: d.read(name) for name in UTT_FILES if d.has(name)}
    stamp = d.read(FEATS_SOURCE) if d.has(FEATS_SOURCE) else None
    if feats_from is not None:
        f = DataDir(feats_from)
        stamp = f.read(FEATS_SOURCE) if f.has(FEATS_SOURCE) else {}
        for name in FEATURE_FILES:
            tables.pop(name, None)
            if f.has(name):
                tables[name] = f.read(name)
                stamp[os.path.abspath(f.file(name))] = _sha1(f.file(name))
        if "feats.scp" not in tables:
            raise DataDirError(f"{f.file('feats.scp')}: missing")
        keep &= set(tables["feats.scp"])
    if not keep:
        raise DataDirError(f"subset of {src} -> {dst}: no utterance left")
    os.makedirs(dst, exist_ok=True)
    utt2spk = {u: s for u, s in d.utt2spk.items() if u in keep}
    for name in UTT_FILES:
        if name in tables:
            write_map(os.path.join(dst, name), {u: v for u, v in tables[name].items() if u in keep})
        elif os.path.exists(os.path.join(dst, name)):
            (_set_aside if name in FEATURE_FILES else os.unlink)(os.path.join(dst, name))
    if stamp:
        write_map(os.path.join(dst, FEATS_SOURCE), stamp)
    elif os.path.exists(os.path.join(dst, FEATS_SOURCE)):
        _set_aside(os.path.join(dst, FEATS_SOURCE))
    write_spk2utt(dst, utt2spk)
    speakers = set(utt2spk.values())
    if d.has("spk2gender"):
        write_map(os.path.join(dst, "spk2gender"), {s: g for s, g in d.read("spk2gender").items() if s in speakers})
    dropped = len(d.utts) - len(keep)
    message = f"subset {src} -> {dst}: kept {len(keep)} of {len(d.utts)} utterances ({dropped} dropped)"
    for stale in set(trial_files(dst)) - set(trial_files(src)):
        os.unlink(os.path.join(dst, stale))
    for trials in trial_files(src):
        rows = read_table(d.file(trials), 3, 3)
        known = keep | speakers
        kept_rows = [r for r in rows if r[0] in known and r[1] in known]
        write_table(os.path.join(dst, trials), kept_rows, sort=False)
        message += (f"; {'' if trials == 'trials' else trials + ': '}kept {len(kept_rows)} of {len(rows)} trials "
                    f"({len(rows) - len(kept_rows)} dropped)")
    logger.log(level, message)
    return len(keep)


def fix_data_dir(path, level=logging.INFO):
    """Keep only utterances present in every per-utterance table (like Kaldi's fix_data_dir.sh),
    sort every table and rebuild spk2utt, in place. Returns the number of utterances kept."""
    d = DataDir(path)
    keep = set(d.utts)
    for name in UTT_FILES:
        if d.has(name):
            keep &= set(d.read(name))
    return subset_data_dir(path, path, keep, level=level)


def split_data_dir(path, n):
    """Split a data dir into ``n`` contiguous parts by sorted utterance -> list of part dirs.

    Parts are ``<path>/split<n>/<1..n>``; rebuilt only when older than the dir's utt2spk or feats.scp.
    Every part gets at least one utterance (``n`` larger than the number of utterances is an error).
    """
    d = DataDir(path)
    if n < 1 or n > len(d.utts):
        raise DataDirError(f"{path}: cannot split {len(d.utts)} utterances into {n} parts")
    base = os.path.join(d.path, f"split{n}")
    parts = [os.path.join(base, str(i + 1)) for i in range(n)]
    sources = [d.file(name) for name in UTT_FILES + SPK_FILES if d.has(name)]
    newest = max(os.path.getmtime(s) for s in sources)
    if all(os.path.isfile(os.path.join(p, "utt2spk")) and os.path.getmtime(os.path.join(p, "utt2spk")) >= newest
           for p in parts):
        return parts
    for i, part in enumerate(parts):
        lo, hi = len(d.utts) * i // n, len(d.utts) * (i + 1) // n
        subset_data_dir(path, part, d.utts[lo:hi], level=logging.DEBUG)
    return parts
