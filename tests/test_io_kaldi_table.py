"""Kaldi ark/scp writing: byte-compatible (two independent readers) and atomic."""
import os
import subprocess
import sys

import kaldi_native_io
import kaldiio
import numpy as np
import pytest

from pyspk.io.atomic import remove_stale_temps, stale_temps
from pyspk.io.kaldi_table import ArkScpWriter, KaldiTableError, concatenate_scps, load_scp, read_entry


def _write(tmp_path, entries, name="x"):
    ark, scp = tmp_path / f"{name}.ark", tmp_path / f"{name}.scp"
    with ArkScpWriter(str(ark), str(scp)) as w:
        for key, value in entries.items():
            w.write(key, value)
    return ark, scp


def test_matrices_and_vectors_read_back_with_kaldiio_and_kaldi_native_io(tmp_path):
    rng = np.random.default_rng(0)
    mats = {f"spk{i}-utt{j}": rng.standard_normal((rng.integers(1, 300), 161)).astype(np.float32)
            for i in range(3) for j in range(4)}
    _, scp = _write(tmp_path, mats)
    ours = load_scp(str(scp))
    other = kaldi_native_io.RandomAccessFloatMatrixReader(f"scp:{scp}")
    for key, mat in mats.items():
        np.testing.assert_array_equal(ours[key], mat)
        np.testing.assert_array_equal(np.asarray(other[key]), mat)
    # The scp is sorted C-locale and every line is "key ark:offset".
    lines = open(scp).read().splitlines()
    assert [l.split()[0] for l in lines] == sorted(mats)
    vecs = {"a": np.arange(128, dtype=np.float32), "b": -np.ones(128, np.float32)}
    _, vscp = _write(tmp_path, vecs, "v")
    reader = kaldi_native_io.RandomAccessFloatVectorReader(f"scp:{vscp}")
    for key, vec in vecs.items():
        np.testing.assert_array_equal(np.asarray(reader[key]), vec)
        np.testing.assert_array_equal(kaldiio.load_scp(str(vscp))[key], vec)


def test_sequential_kaldi_reader_sees_the_ark_itself(tmp_path):
    mats = {"u1": np.ones((2, 3), np.float32), "u2": np.zeros((4, 3), np.float32)}
    ark, _ = _write(tmp_path, mats)
    # The reader reuses its buffer between entries: copy each one.
    seen = {k: np.array(v, copy=True) for k, v in kaldi_native_io.SequentialFloatMatrixReader(f"ark:{ark}")}
    assert seen.keys() == mats.keys()
    for key in mats:
        np.testing.assert_array_equal(seen[key], mats[key])


def test_interrupted_writer_leaves_nothing(tmp_path):
    ark, scp = tmp_path / "p.ark", tmp_path / "p.scp"
    with pytest.raises(RuntimeError):
        with ArkScpWriter(str(ark), str(scp)) as w:
            w.write("a", np.ones((3, 2)))
            raise RuntimeError("killed")
    assert os.listdir(tmp_path) == []


# A writer SIGKILLed in the middle of writing <out>.ark (its scp not yet begun), as a killed job is.
_KILLED_WRITER = """
import os, signal, sys
import numpy as np
from pyspk.io.kaldi_table import ArkScpWriter
with ArkScpWriter(sys.argv[1] + ".ark", sys.argv[1] + ".scp") as w:
    w.write("a", np.ones((3, 2)))
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_writer(out):
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(out)], capture_output=True)
    assert proc.returncode == -9, proc.stderr


def test_a_killed_writers_temp_files_are_found_by_output_and_removed(tmp_path):
    _killed_writer(tmp_path / "raw_spec_a.1")
    _killed_writer(tmp_path / "raw_spec_a.2")
    _killed_writer(tmp_path / "raw_spec_b.1")
    _write(tmp_path, {"a": np.ones(2)}, name="raw_spec_a.3")   # complete outputs, and a lock: not temps
    (tmp_path / ".raw_spec_a.lock").write_text("")
    left = sorted(os.listdir(tmp_path))
    temps = [f for f in left if f.endswith(".tmp")]
    assert len(temps) == 3 and all(f.startswith(".raw_spec_") and ".ark." in f for f in temps), left

    a1 = stale_temps(tmp_path / "raw_spec_a.1.ark")          # one file's
    assert [os.path.basename(p) for p in a1] == [f for f in temps if f.startswith(".raw_spec_a.1.ark.")]
    assert stale_temps(tmp_path / "raw_spec_a.3.ark") == []   # written completely
    assert len(stale_temps(tmp_path / "raw_spec_a", prefix=True)) == 2
    assert len(stale_temps(tmp_path)) == 3                    # a directory: every file directly in it

    removed = remove_stale_temps(tmp_path / "raw_spec_a", prefix=True)
    assert len(removed) == 2 and not any(os.path.exists(p) for p in removed)
    assert sorted(os.listdir(tmp_path)) == sorted(set(left) - {os.path.basename(p) for p in removed})
    assert len(stale_temps(tmp_path)) == 1                    # raw_spec_b's is not raw_spec_a's
    assert stale_temps(tmp_path / "missing" / "x.ark") == []


def test_rewrite_replaces_old_archive_cleanly(tmp_path):
    _write(tmp_path, {"a": np.ones((3, 2))})
    _, scp = _write(tmp_path, {"b": np.zeros((1, 2))})
    assert list(load_scp(str(scp))) == ["b"]
    assert sorted(os.listdir(tmp_path)) == ["x.ark", "x.scp"]


def test_bad_keys_and_shapes_are_errors(tmp_path):
    with pytest.raises(KaldiTableError, match="duplicate key"):
        with ArkScpWriter(str(tmp_path / "d.ark"), str(tmp_path / "d.scp")) as w:
            w.write("a", np.ones(2))
            w.write("a", np.ones(2))
    with pytest.raises(KaldiTableError, match="invalid key"):
        with ArkScpWriter(str(tmp_path / "e.ark"), str(tmp_path / "e.scp")) as w:
            w.write("a b", np.ones(2))
    with pytest.raises(KaldiTableError, match="shape"):
        with ArkScpWriter(str(tmp_path / "f.ark"), str(tmp_path / "f.scp")) as w:
            w.write("a", np.ones((2, 2, 2)))


def test_truncated_archive_read_names_the_entry(tmp_path):
    ark, scp = _write(tmp_path, {"a": np.ones((100, 10), np.float32)})
    with open(ark, "r+b") as f:
        f.truncate(200)
    value = open(scp).read().split()[1]
    with pytest.raises(KaldiTableError, match=str(ark)):
        read_entry(value, what="features of a")


def test_concatenate_scps_sorts_and_rejects_duplicates(tmp_path):
    _, s1 = _write(tmp_path, {"b": np.ones(1)}, "1")
    _, s2 = _write(tmp_path, {"a": np.ones(1)}, "2")
    assert concatenate_scps([s1, s2], tmp_path / "all.scp") == 2
    assert [l.split()[0] for l in open(tmp_path / "all.scp")] == ["a", "b"]
    with pytest.raises(KaldiTableError, match="also in"):
        concatenate_scps([s1, s1], tmp_path / "dup.scp")


def test_entry_of_a_rewritten_ark_fails_naming_scp_line_ark_and_offset(tmp_path):
    """Issue case: run B rewrites run A's ark; A's scp must not return B's matrices."""
    a = {"spk1-a": np.zeros((5, 3), np.float32), "spk1-b": np.ones((5, 3), np.float32)}
    ark, scp = _write(tmp_path, a, "a")
    old_scp = tmp_path / "old.scp"
    os.replace(scp, old_scp)
    _write(tmp_path, {"spk1-b": np.full((5, 3), 2, np.float32), "spk1-c": np.full((5, 3), 3, np.float32)}, "a")
    table = load_scp(str(old_scp))
    offset = open(old_scp).read().splitlines()[1].rsplit(":", 1)[1]
    with pytest.raises(KaldiTableError, match=rf"old.scp:2: {ark} at offset {offset} does not hold key 'spk1-b'"):
        table["spk1-b"]
    with pytest.raises(KaldiTableError, match="does not hold key 'spk1-a'"):
        read_entry(open(old_scp).read().split()[1], what="features of spk1-a", key="spk1-a")


def test_truncated_or_missing_ark_never_gives_a_short_vector(tmp_path):
    ark, scp = _write(tmp_path, {"v": np.arange(100, dtype=np.float32)})
    with open(ark, "r+b") as f:
        f.truncate(200)  # kaldiio alone returns a short vector here
    with pytest.raises(KaldiTableError, match=rf"x.scp:1: {ark} at offset \d+: truncated"):
        load_scp(str(scp))["v"]
    os.unlink(ark)
    with pytest.raises(KaldiTableError, match=rf"x.scp:1: cannot open {ark}: No such file"):
        load_scp(str(scp))["v"]


def test_row_ranges_read_like_kaldi(tmp_path):
    mat = np.arange(40, dtype=np.float32).reshape(8, 5)
    _, scp = _write(tmp_path, {"m": mat})
    value = open(scp).read().split()[1]
    np.testing.assert_array_equal(read_entry(value + "[2:4]", key="m"), mat[2:5])
    np.testing.assert_array_equal(read_entry(value + "[1:2,0:1]", key="m"), mat[1:3, 0:2])
