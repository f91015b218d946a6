"""Kaldi compressed feature archives (--compress=true) and row-range reads of float and compressed arks,
on real demo-corpus spectrograms, read back by kaldiio and kaldi-native-io."""
import os

import kaldi_native_io
import kaldiio
import numpy as np
import pytest

from conftest import ROOT
from pyspk.bin.compute_spectrogram import main as compute_spectrogram
from pyspk.features.spectrogram import log_spectrogram
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter, KaldiTableError, read_entry, read_rows
from pyspk.io.tables import read_map

WAVS = ["so0001/s0/000010035.flac", "so0005/s0/000050010.flac", "so0036/s0/000360036.flac"]


@pytest.fixture(scope="module")
def spectrograms():
    """Three real spectrograms plus short matrices (1, 5, 8, 9 rows: CM2 below 9 rows, CM's small cases)."""
    mats = {}
    for path in WAVS:
        key = path.split("/")[-1].split(".")[0]
        mats[key] = log_spectrogram(load_audio(f"{ROOT}/egs/demo/corpus/wav/{path}")[0])
    first = next(iter(mats.values()))
    for n in (1, 5, 8, 9):
        mats[f"short{n}"] = first[100:100 + n]
    return mats


def _write(tmp_path, mats, compress):
    ark, scp = tmp_path / f"c{compress}.ark", tmp_path / f"c{compress}.scp"
    with ArkScpWriter(str(ark), str(scp), compress=compress) as w:
        for key, mat in mats.items():
            w.write(key, mat)
    return ark, scp


def cm_error_bound(mat):
    """Largest decoding error the CM format allows per column: half a step of the widest of its three
    byte ranges (percentiles 0-25 in 64 steps, 25-75 in 128, 75-100 in 63), plus the uint16
    quantisation of the percentiles themselves (range / 65535)."""
    q = np.percentile(mat, [0, 25, 75, 100], axis=0, method="nearest")
    step = np.maximum.reduce([(q[1] - q[0]) / 64, (q[2] - q[1]) / 128, (q[3] - q[2]) / 63])
    return step / 2 + 2 * (mat.max() - mat.min()) / 65535 + 1e-5


def test_compressed_archive_reads_back_with_both_readers_within_quantisation(tmp_path, spectrograms):
    ark, scp = _write(tmp_path, spectrograms, compress=True)
    plain_ark, _ = _write(tmp_path, spectrograms, compress=False)
    ours, theirs = kaldiio.load_scp(str(scp)), kaldi_native_io.RandomAccessFloatMatrixReader(f"scp:{scp}")
    table = read_map(str(scp))
    for key, mat in spectrograms.items():
        a, b = ours[key], np.asarray(theirs[key])
        assert a.shape == b.shape == mat.shape
        np.testing.assert_allclose(a, b, atol=1e-5)
        if mat.shape[0] > 8:  # CM: per-column percentile quantisation
            assert open(ark, "rb").read()[int(table[key].rsplit(":", 1)[1]):][:5] == b"\0BCM "
            assert np.all(np.abs(a - mat) <= cm_error_bound(mat)), key
        else:  # CM2: 16-bit linear over the matrix's range
            assert np.abs(a - mat).max() <= (mat.max() - mat.min()) / 65535
        rows, whole = read_rows(table[key], 0, None, key=key)
        assert rows == mat.shape[0]
        np.testing.assert_allclose(whole, a, atol=1e-5)
        np.testing.assert_allclose(read_entry(table[key], key=key), a, atol=1e-5)  # the library's whole reads
    ratio = os.path.getsize(ark) / os.path.getsize(plain_ark)
    assert 0.25 < ratio < 0.3  # one byte a value plus 8 bytes a column


@pytest.mark.parametrize("compress", [False, True])
def test_row_ranges_equal_the_whole_matrix_rows(tmp_path, spectrograms, compress):
    _, scp = _write(tmp_path, spectrograms, compress)
    table, whole = read_map(str(scp)), kaldiio.load_scp(str(scp))
    for key, mat in spectrograms.items():
        n = mat.shape[0]
        for start, count in {(0, n), (0, 1), (n - 1, 1), (n // 3, n // 2), (n, 0)}:
            rows, part = read_rows(table[key], start, count, what=key)
            assert rows == n and part.shape == (count, mat.shape[1]) and part.dtype == np.float32
            np.testing.assert_allclose(part, whole[key][start:start + count], atol=1e-5 if compress else 0)
        with pytest.raises(KaldiTableError, match=f"{key}.*rows {n - 1}..{n + 1}"):
            read_rows(table[key], n - 1, 2, what=key)


def test_row_reads_of_a_truncated_or_misplaced_entry_name_the_file(tmp_path, spectrograms):
    ark, scp = _write(tmp_path, {"a": spectrograms["000010035"]}, compress=False)
    value = read_map(str(scp))["a"]
    with pytest.raises(KaldiTableError, match="not a Kaldi binary entry"):
        read_rows(f"{ark}:1", 0, 1)
    os.truncate(ark, os.path.getsize(ark) - 100)
    with pytest.raises(KaldiTableError, match=f"{ark}.*truncated"):
        read_rows(value, 0, None)


def test_compute_spectrogram_compress_option(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text("".join(f"u{i} {ROOT}/egs/demo/corpus/wav/{p}\n" for i, p in enumerate(WAVS)))
    for compress in ("false", "true"):
        compute_spectrogram([f"--compress={compress}", str(data), str(tmp_path / f"{compress}.ark"),
                             str(tmp_path / f"{compress}.scp")])
    plain, packed = (kaldi_native_io.RandomAccessFloatMatrixReader(f"scp:{tmp_path}/{c}.scp") for c in ("false", "true"))
    for i in range(len(WAVS)):
        a, b = np.asarray(plain[f"u{i}"]), np.asarray(packed[f"u{i}"])
        assert np.all(np.abs(a - b) <= cm_error_bound(a))
    assert os.path.getsize(tmp_path / "true.ark") < 0.3 * os.path.getsize(tmp_path / "false.ark")
