"""Atomic file writing: a temp file in the same directory, fsynced, then renamed into place.

A reader therefore sees either the old file or the complete new one, never a partial one, and a
stage killed half-way can simply be rerun. A writer killed inside a write leaves its temp file,
``<dir>/.<name>.XXXXXXXX.tmp`` (hidden, so no glob of outputs matches it); the next writer of the same
output removes it with :func:`remove_stale_temps` (the steps do, on taking the output's lock:
``utils/lock.sh``).
"""
import contextlib
import os
import re
import tempfile

# .<name>.<mkstemp's 8 random characters>.tmp
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def make_temp(path):
    """Create the temp file an atomic write of ``path`` goes through, ``<dir>/.<name>.XXXXXXXX.tmp``,
    in ``path``'s directory (so the final rename never crosses file systems). Returns (fd, temp path)."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    return tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)


def stale_temps(output, prefix=False):
    """The temp files (sorted paths) that atomic writes of ``output`` left behind.

    ``output`` is a file (its temps), a directory (the temps of every file directly in it), or, with
    ``prefix=True``, a path prefix (the temps of every file in its directory whose name starts with it,
    e.g. ``feats/raw_spec_train`` for ``feats/raw_spec_train.3.ark``). A live writer's temp file looks
    the same as a killed one's: only the one writer of ``output``, holding its lock, may remove them.
    """
    output = os.fspath(output)
    whole_dir = not prefix and os.path.isdir(output)
    directory = output if whole_dir else (os.path.dirname(output) or ".")
    name = os.path.basename(output)
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = []
    for entry in entries:
        m = _TEMP_NAME.fullmatch(entry)
        if m and (whole_dir or m["name"] == name or (prefix and m["name"].startswith(name))):
            if os.path.isfile(os.path.join(directory, entry)):
                found.append(os.path.join(directory, entry))
    return sorted(found)


def remove_stale_temps(output, prefix=False):
    """Remove :func:`stale_temps` of ``output``; returns the paths removed."""
    removed = []
    for tmp in stale_temps(output, prefix=prefix):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding=None):
    """Open a temp file next to ``path``; on clean exit fsync it and rename it onto ``path``.

    On an exception the temp file is removed and ``path`` is left untouched.
    ``mode`` is "w" (text, UTF-8 by default) or "wb".
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', not {mode!r}")
    path = os.fspath(path)
    fd, tmp = make_temp(path)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding or "utf-8"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
