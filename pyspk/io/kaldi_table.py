"""Kaldi binary tables: ``scp`` index + ``ark`` archive of float32 matrices (frames x dims) or vectors.

Writing goes through :class:`ArkScpWriter`, which is atomic: the ark and the scp are written to temp
files and renamed into place (ark first) only when every entry is written, so an interrupted job leaves
no scp that points at partial data. Reading decodes with kaldiio; the bytes are Kaldi's own binary
format (``\\0B`` + ``FM``/``FV`` + sizes + little-endian float32), so Kaldi and kaldi-native-io read them.

Every read of an ``ark:offset`` entry checks that the ark stores the expected key just before the
offset (an ark entry is ``key`` + space + matrix), so an scp whose ark was since rewritten by another
run fails naming the entry instead of returning another utterance's matrix, and a truncated ark
fails naming the file instead of returning a short vector.
"""
import contextlib
import os
import struct
from collections.abc import Mapping

import kaldiio
import numpy as np

from pyspk.io import compressed_matrix
from pyspk.io.atomic import make_temp
from pyspk.io.tables import read_map, read_table, write_table


class KaldiTableError(ValueError):
    """A missing or unreadable ark/scp entry; the message names the file."""


def read_scp_keys(path):
    """Keys of an scp file, in file order."""
    return [row[0] for row in read_table(path, min_cols=2)]


class ScpTable(Mapping):
    """Read-only dict ``key -> np.ndarray`` over an scp file; each entry is read (and its stored key
    checked) on access, errors naming ``scp:line``, the ark and the offset."""

    def __init__(self, path):
        self.path = os.fspath(path)
        rows = read_table(self.path, min_cols=2)
        read_map(self.path)  # duplicates and short lines name file:line
        self._entries = {row[0]: (lineno, " ".join(row[1:])) for lineno, row in enumerate(rows, 1)}

    def __getitem__(self, key):
        lineno, value = self._entries[key]
        return read_entry(value, what=f"{self.path}:{lineno}", key=key)

    def __iter__(self):
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)


def load_scp(path):
    """Lazy dict-like ``key -> np.ndarray`` over an scp file (see :class:`ScpTable`)."""
    return ScpTable(path)


class _ExactReader:
    """A binary file whose ``read(n)`` returns exactly ``n`` bytes or raises (a truncated entry)."""

    def __init__(self, f, name):
        self._f, self.name = f, name

    def read(self, n=-1):
        data = self._f.read(n)
        if n is not None and n >= 0 and len(data) < n:
            raise KaldiTableError(f"{self.name}: truncated (ends at byte {self._f.tell()} inside an entry)")
        return data

    def seek(self, offset, whence=0):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()

    def seekable(self):
        return True


def _split_offset(scp_value):
    """``ark_path:offset`` -> (ark_path, offset, row-range suffix ``[..]`` or ""); None for other forms
    (pipes, whole files), which are read without the checks."""
    value = scp_value.strip()
    if value.endswith("|") or value.startswith("|"):
        return None
    suffix = ""
    if value.endswith("]") and "[" in value:
        value, suffix = value[:value.rindex("[")], value[value.rindex("["):]
    ark, sep, offset = value.rpartition(":")
    if not sep or not offset.isdigit():
        return None
    return ark, int(offset), suffix


def _kaldi_range(suffix):
    """Kaldi's ``[r1:r2]`` / ``[r1:r2,c1:c2]`` (inclusive ends; an empty part = all) -> numpy index."""
    parts = []
    for part in suffix[1:-1].split(","):
        if part.strip() in ("", ":"):
            parts.append(slice(None))
            continue
        lo, _, hi = part.partition(":")
        parts.append(slice(int(lo), int(hi or lo) + 1))
    return tuple(parts)


@contextlib.contextmanager
def open_entry(scp_value, what="entry", key=None):
    """Open the ark of ``ark_path:offset`` positioned at the entry -> (binary file, row-range suffix).

    With ``key``, the ark must store ``key`` just before ``offset``. The file raises KaldiTableError
    on a short read. Errors name ``what`` (e.g. ``data/x/feats.scp:12``), the ark and the offset.
    """
    ark, offset, suffix = _split_offset(scp_value)
    try:
        f = open(ark, "rb")
    except OSError as e:
        raise KaldiTableError(f"{what}: cannot open {ark}: {e.strerror}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        if offset + 2 > size:
            raise KaldiTableError(f"{what}: {ark} has {size} bytes, no entry at offset {offset} "
                                  f"(truncated, or rewritten since the scp was made)")
        if key is not None:
            stored = key.encode("utf-8") + b" "
            f.seek(max(0, offset - len(stored)))
            found = f.read(min(offset, len(stored)))
            if found != stored:
                raise KaldiTableError(
                    f"{what}: {ark} at offset {offset} does not hold key {key!r} (the bytes before it read "
                    f"{found.decode('utf-8', 'replace').rstrip()!r}): the ark was rewritten since the scp "
                    f"was made (remake the scp's data or output dir)")
        f.seek(offset)
        yield _ExactReader(f, f"{what}: {ark} at offset {offset}"), suffix


def read_entry(scp_value, what="entry", key=None):
    """Read one scp value (``ark_path:offset``, optionally ``[rows]``, or another kaldiio rxspecifier)
    -> np.ndarray, checking the stored key when ``key`` is given (see :func:`open_entry`).
    Errors (missing or truncated ark, another key at the offset) are KaldiTableError naming ``what``."""
    try:
        if _split_offset(scp_value) is None:
            return kaldiio.load_mat(scp_value)
        with open_entry(scp_value, what, key) as (f, suffix):
            array = kaldiio.matio.read_kaldi(f)
            return array[_kaldi_range(suffix)] if suffix else array
    except KaldiTableError:
        raise
    except Exception as e:  # kaldiio raises many types for garbled input
        raise KaldiTableError(f"cannot read {what} from {scp_value}: {type(e).__name__}: {e}") from e


def split_scp_value(scp_value):
    """``ark_path:offset`` -> (ark_path, offset in bytes); other rxspecifiers -> (value, None)."""
    path, sep, offset = scp_value.rpartition(":")
    if sep and offset.isdigit():
        return path, int(offset)
    return scp_value, None


def read_rows(scp_value, start, count, what="entry", key=None):
    """Rows ``start .. start + count`` of a matrix in an ark -> (rows in the matrix, float32 (count, cols)).

    Only those rows are read: a float (``FM``/``DM``) matrix is row-major after a 15-byte header,
    so the read seeks to the first row; a compressed one (``CM``/``CM2``/``CM3``, see
    :mod:`pyspk.io.compressed_matrix`) decodes only those rows. ``count=None`` reads to the end.
    The rows of a float32 matrix come back read-only (no copy is made).
    Entries that are not ``ark_path:offset`` are read whole and sliced. Errors name ``what``; with
    ``key``, the key stored before the offset is checked (see :func:`open_entry`).
    """
    path, offset = split_scp_value(scp_value)
    if offset is None:
        mat = read_entry(scp_value, what, key)
        return mat.shape[0], mat[start:None if count is None else start + count]
    where = f"{what} ({scp_value})"
    try:
        with open_entry(scp_value, what, key) as (f, _):
            head = f.read(5)
            if head[:2] != b"\0B":
                raise ValueError("not a Kaldi binary entry at that offset")
            kind = head[2:4].decode("latin-1")
            if kind in ("FM", "DM") and head[4:5] == b" ":
                return _read_float_rows(f, kind, start, count, where)
            token = head[2:] + f.read(1)
            kind = token.split(b" ")[0].decode("latin-1")
            if kind not in compressed_matrix.KINDS:
                raise ValueError(f"not a matrix (token {token!r})")
            f.seek(offset + 3 + len(kind))
            header, rows = compressed_matrix.read_rows(f, kind, start, count, where)
            return header.rows, rows
    except (OSError, ValueError, struct.error) as e:
        raise KaldiTableError(f"cannot read {what} from {scp_value}: {e}") from e


def _read_float_rows(f, kind, start, count, where):
    size = 4 if kind == "FM" else 8
    rows_cols = f.read(10)
    if len(rows_cols) != 10 or rows_cols[0] != 4 or rows_cols[5] != 4:
        raise ValueError("bad matrix header")
    rows, cols = struct.unpack("<i", rows_cols[1:5])[0], struct.unpack("<i", rows_cols[6:10])[0]
    count = rows - start if count is None else count
    if start < 0 or count < 0 or start + count > rows:
        raise ValueError(f"rows {start}..{start + count} asked of a {rows}-row matrix")
    f.seek(start * cols * size, 1)
    mat = np.frombuffer(f.read(count * cols * size), dtype="<f4" if size == 4 else "<f8").reshape(count, cols)
    return rows, mat.astype(np.float32, copy=False)  # float32: a read-only view of the bytes read


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
    Keys must be unique and contain no whitespace. ``compress=True`` stores matrices as Kaldi's
    compressed matrices (``--compress=true`` of Kaldi's feature binaries: ``CM``, one byte per value,
    or ``CM2`` for 8 rows or fewer; see :mod:`pyspk.io.compressed_matrix`); vectors stay float32.
    """

    def __init__(self, ark_path, scp_path, compress=False):
        self.ark_path = os.fspath(ark_path)
        self.scp_path = os.fspath(scp_path)
        self._ark_tmp = None
        self._entries = []
        self._keys = set()
        self._ark = None
        self.compress = compress

    def __enter__(self):
        fd, self._ark_tmp = make_temp(self.ark_path)
        self._ark = os.fdopen(fd, "wb")
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
        kaldiio.save_mat(self._ark, np.ascontiguousarray(array),
                         compression_method=compressed_matrix.AUTOMATIC if self.compress and array.ndim == 2 else None)
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
                os.chmod(self._ark_tmp, 0o644)   # mkstemp's is 0600
                os.replace(self._ark_tmp, self.ark_path)
                write_table(self.scp_path, self._entries)
        finally:
            if exc_type is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._ark_tmp)
        return False
