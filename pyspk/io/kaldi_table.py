"""Kaldi binary tables: ``scp`` index + ``ark`` archive of float32 matrices (frames x dims) or vectors.

Writing goes through :class:`ArkScpWriter`, which is atomic: the ark and the scp are written to temp
files and renamed into place (ark first) only when every entry is written, so an interrupted job leaves
no scp that points at partial data. Reading goes through kaldiio; the bytes are Kaldi's own binary
format (``\\0B`` + ``FM``/``FV`` + sizes + little-endian float32), so Kaldi and kaldi-native-io read them.
"""
import contextlib
import os

import kaldiio
import numpy as np

from pyspk.io.tables import read_map, read_table, write_table


class KaldiTableError(ValueError):
    """A missing or unreadable ark/scp entry; the message names the file."""


def read_scp_keys(path):
    """Keys of an scp file, in file order."""
    return [row[0] for row in read_table(path, min_cols=2)]


def load_scp(path):
    """Lazy dict-like ``key -> np.ndarray`` over an scp file (each entry read on access)."""
    read_map(path)  # validate the file first: duplicates and short lines name file:line
    return kaldiio.load_scp(path)


def read_entry(scp_value, what="entry"):
    """Read one ``ark_path:offset`` (or other kaldiio rxspecifier) -> np.ndarray; errors name it."""
    try:
        return kaldiio.load_mat(scp_value)
    except Exception as e:  # kaldiio raises many types for truncated/missing files
        raise KaldiTableError(f"cannot read {what} from {scp_value}: {type(e).__name__}: {e}") from e


def concatenate_scps(part_paths, out_path):
    """Join part scps (each sorted) into one sorted scp, written atomically; duplicate keys are errors."""
    rows, seen = [], {}
    for part in part_paths:
        for row in read_table(part, min_cols=2, max_cols=2):
            if row[0] in seen:
                raise KaldiTableError(f"{part}: key {row[0]} also in {seen[row[0]]}")
            seen[row[0]] = part
            rows.append(row)
    write_table(out_path, rows)
    return len(rows)


class ArkScpWriter:
    """Write float32 matrices / vectors to ``ark_path`` with an index at ``scp_path``, atomically.

    Usage::

        with ArkScpWriter("/abs/spec/raw_spec.1.ark", "/abs/spec/raw_spec.1.scp") as w:
            w.write("so0001-s0-000010011", feats)   # (frames, bins) float32, or (dims,) vector

    The scp names ``ark_path`` exactly as given (pass an absolute path so the scp works from anywhere).
    Keys must be unique and contain no whitespace.
    """

    def __init__(self, ark_path, scp_path):
        self.ark_path = os.fspath(ark_path)
        self.scp_path = os.fspath(scp_path)
        self._ark_tmp = self.ark_path + f".tmp{os.getpid()}"
        self._entries = []
        self._keys = set()
        self._ark = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.ark_path) or ".", exist_ok=True)
        self._ark = open(self._ark_tmp, "wb")
        return self

    def write(self, key, array):
        if not key or any(c.isspace() for c in key):
            raise KaldiTableError(f"{self.ark_path}: invalid key {key!r}")
        if key in self._keys:
            raise KaldiTableError(f"{self.ark_path}: duplicate key {key!r}")
        array = np.asarray(array, dtype=np.float32)
        if array.ndim not in (1, 2):
            raise KaldiTableError(f"{self.ark_path}: {key}: expected a vector or matrix, got shape {array.shape}")
        self._ark.write(key.encode("utf-8") + b" ")
        offset = self._ark.tell()
        kaldiio.save_mat(self._ark, np.ascontiguousarray(array))
        self._keys.add(key)
        self._entries.append((key, f"{self.ark_path}:{offset}"))

    def __len__(self):
        return len(self._entries)

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._ark.flush()
                os.fsync(self._ark.fileno())
            self._ark.close()
            if exc_type is None:
                os.replace(self._ark_tmp, self.ark_path)
                write_table(self.scp_path, self._entries)
        finally:
            if exc_type is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._ark_tmp)
        return False
