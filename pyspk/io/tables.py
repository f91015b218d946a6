"""Kaldi text tables (utt2spk, spk2utt, wav.scp, trials, ...): one record a line, fields split by
whitespace, sorted in C-locale byte order. Every error names the file and the line."""

from pyspk.io.atomic import atomic_write


class TableError(ValueError):
    """A malformed text table; the message names ``file:line``."""


def iter_fields(path):
    """Yield (line number, whitespace-split fields) of every line of a text file, one at a time
    (blank lines give no fields); a missing file is a TableError naming it."""
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise TableError(f"{path}: no such file") from None
    with f:
        for lineno, line in enumerate(f, 1):
            yield lineno, line.split()


def read_table(path, min_cols=1, max_cols=None):
    """Read a whitespace-separated table -> list of rows (lists of str). Blank lines are errors."""
    rows = []
    for lineno, fields in iter_fields(path):
        if len(fields) < min_cols or (max_cols is not None and len(fields) > max_cols):
            want = f"{min_cols}" if max_cols == min_cols else f"{min_cols}..{max_cols or 'n'}"
            raise TableError(f"{path}:{lineno}: expected {want} fields, got {len(fields)}: {' '.join(fields)!r}")
        rows.append(fields)
    return rows


def _check_unique(path, rows):
    seen = set()
    for lineno, row in enumerate(rows, 1):
        if row[0] in seen:
            raise TableError(f"{path}:{lineno}: duplicate key {row[0]!r}")
        seen.add(row[0])


def read_map(path):
    """Read ``key rest-of-line`` lines -> dict key -> rest (inner whitespace kept as one space).

    Suits utt2spk, wav.scp (including ``cmd |`` entries), utt2dur, spk2gender, feats.scp.
    """
    rows = read_table(path, min_cols=2)
    _check_unique(path, rows)
    return {row[0]: " ".join(row[1:]) for row in rows}


def read_list_map(path):
    """Read ``key item item ...`` lines (e.g. spk2utt) -> dict key -> list of items."""
    rows = read_table(path, min_cols=2)
    _check_unique(path, rows)
    return {row[0]: row[1:] for row in rows}


def sort_key(text):
    """C-locale (byte order) sort key, as ``LC_ALL=C sort`` gives."""
    return text.encode("utf-8")


def write_table(path, rows, sort=True):
    """Write rows (sequences of str) atomically, fields joined by one space, sorted C-locale by line."""
    lines = [" ".join(str(x) for x in row) for row in rows]
    if sort:
        lines.sort(key=sort_key)
    with atomic_write(path) as f:
        for line in lines:
            f.write(line + "\n")


def write_map(path, mapping):
    """Write a dict key -> str or list of str as a sorted table."""
    write_table(path, ([k, *(v if isinstance(v, (list, tuple)) else [v])] for k, v in mapping.items()))
