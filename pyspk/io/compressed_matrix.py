"""Kaldi's compressed matrices (``CompressedMatrix``), written by ``--compress=true`` feature jobs.

Three binary kinds follow the ``\\0B`` marker and their token:

- ``CM`` (Kaldi's kSpeechFeature, used for matrices of more than 8 rows): a global header
  (float32 min, float32 range, int32 rows, int32 cols), then one header per column of four uint16
  quantised percentiles (0, 25, 75, 100), then one byte per value, **column by column**
  (cols x rows bytes). A byte decodes by piecewise-linear interpolation between its column's
  percentiles: 0..64, 64..192 and 192..255.
- ``CM2`` (kTwoByteAuto, 8 rows or fewer): the global header, then row-major uint16 values,
  ``min + range * v / 65535``.
- ``CM3`` (kOneByteAuto): the same with uint8 values and 255.

Writing is kaldiio's (``compression_method=1``, Kaldi's kAutomaticMethod, as Kaldi's own feature
binaries choose). Reading a row range (:func:`read_rows`) decodes only the rows asked for: for
``CM`` the bytes of the column-major block that span those rows are read (at most a quarter of
the float32 matrix) and only they are decoded, with one 256-entry lookup table per column.
"""
import struct

import numpy as np

AUTOMATIC = 1  # kaldiio's (and Kaldi's) kAutomaticMethod: CM for more than 8 rows, else CM2
KINDS = {"CM": 1, "CM2": 2, "CM3": 1}  # bytes per stored value
_GLOBAL = struct.Struct("<ffii")  # min_value, range, num_rows, num_cols
_UINT16_SCALE = np.float32(1.52590218966964e-05)  # 1 / 65535, as Kaldi's Uint16ToFloat


class CompressedHeader:
    """The global header of a compressed matrix: ``kind``, ``min_value``, ``range``, ``rows``, ``cols``."""

    def __init__(self, kind, raw):
        self.kind = kind
        self.min_value, self.range, self.rows, self.cols = _GLOBAL.unpack(raw)

    @classmethod
    def read(cls, f, kind):
        raw = f.read(_GLOBAL.size)
        if len(raw) != _GLOBAL.size:
            raise ValueError(f"truncated {kind} header")
        header = cls(kind, raw)
        if header.rows < 0 or header.cols < 0:
            raise ValueError(f"bad {kind} header: {header.rows} x {header.cols}")
        return header

    def uint16_to_float(self, values):
        """Kaldi's Uint16ToFloat: float32 ``min + range * v / 65535``."""
        return np.float32(self.min_value) + np.float32(self.range) * _UINT16_SCALE * values.astype(np.float32)


def column_tables(header, col_headers):
    """(cols, 256) float32 decoded value of every byte for every column of a ``CM`` matrix
    (Kaldi's CharToFloat); col_headers: (cols, 4) uint16 percentiles 0, 25, 75, 100."""
    p0, p25, p75, p100 = (header.uint16_to_float(col_headers[:, i])[:, None] for i in range(4))
    table = np.empty((col_headers.shape[0], 256), dtype=np.float32)
    v = np.arange(256, dtype=np.float32)
    table[:, :65] = p0 + (p25 - p0) * v[:65] * np.float32(1 / 64.0)
    table[:, 65:193] = p25 + (p75 - p25) * (v[65:193] - 64) * np.float32(1 / 128.0)
    table[:, 193:] = p75 + (p100 - p75) * (v[193:] - 192) * np.float32(1 / 63.0)
    return table


def read_rows(f, kind, start, count, where):
    """Rows ``start .. start + count`` of the compressed matrix whose header starts at ``f``'s
    position (just after the kind token) -> (header, float32 (count, cols); column-major for ``CM``).

    ``count=None`` reads to the last row. ``where`` names the entry in error messages.
    """
    header = CompressedHeader.read(f, kind)
    rows, cols = header.rows, header.cols
    count = rows - start if count is None else count
    if start < 0 or count < 0 or start + count > rows:
        raise ValueError(f"{where}: rows {start}..{start + count} asked of a {rows}-row matrix")
    if kind == "CM":
        col_headers = np.frombuffer(_read(f, 8 * cols, where), dtype="<u2").reshape(cols, 4)
        if count == 0 or cols == 0:
            return header, np.zeros((count, cols), dtype=np.float32)
        # Column c's bytes of the range are at c * rows + start: read the one span covering them all,
        # view it as (cols, count) (a stride of ``rows`` bytes between columns) and decode column by
        # column through the flattened tables; the result is the (count, cols) transpose of that.
        f.seek(start, 1)
        span = np.frombuffer(_read(f, (cols - 1) * rows + count, where), dtype=np.uint8)
        codes = np.lib.stride_tricks.as_strided(span, shape=(cols, count), strides=(rows, 1))
        index = codes + np.arange(0, 256 * cols, 256, dtype=np.intp)[:, None]
        return header, column_tables(header, col_headers).ravel().take(index).T
    width = KINDS[kind]
    f.seek(start * cols * width, 1)
    values = np.frombuffer(_read(f, count * cols * width, where), dtype="<u2" if width == 2 else np.uint8)
    scale = np.float32(header.range / (65535.0 if width == 2 else 255.0))
    return header, (np.float32(header.min_value) + values.astype(np.float32) * scale).reshape(count, cols)


def _read(f, n, where):
    data = f.read(n)
    if len(data) != n:
        raise ValueError(f"{where}: truncated compressed matrix ({len(data)} of {n} bytes)")
    return data
