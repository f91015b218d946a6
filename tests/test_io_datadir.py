"""Data dirs: validation names the offending line; subset/split/fix keep every table consistent."""
import numpy as np
import pytest

from pyspk.io.datadir import DataDir, DataDirError, fix_data_dir, split_data_dir, subset_data_dir, validate_data_dir
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import TableError, read_list_map, read_map, read_table, write_table


def make_dir(path, speakers=("id1", "id2", "id3"), per_spk=4):
    utts = [f"{s}-v{j}-0000{j}" for s in speakers for j in range(per_spk)]
    path.mkdir(parents=True, exist_ok=True)
    write_table(path / "wav.scp", [[u, f"/corpus/{u}.wav"] for u in utts])
    write_table(path / "utt2spk", [[u, u.split("-")[0]] for u in utts])
    write_table(path / "utt2dur", [[u, "3.00"] for u in utts])
    write_table(path / "spk2utt", [[s] + [u for u in utts if u.startswith(s)] for s in speakers])
    write_table(path / "spk2gender", [[s, "mf"[i % 2]] for i, s in enumerate(speakers)])
    trials = [[a, b, "target" if a.split("-")[0] == b.split("-")[0] else "nontarget"]
              for a in utts for b in utts if a < b]
    write_table(path / "trials", trials, sort=False)
    return utts


def test_valid_dir_passes(tmp_path):
    utts = make_dir(tmp_path / "d")
    d = validate_data_dir(tmp_path / "d")
    assert d.utts == utts and d.speakers == ["id1", "id2", "id3"]
    assert d.spk2utt["id2"] == [u for u in utts if u.startswith("id2")]


@pytest.mark.parametrize("name, corrupt, message", [
    ("utt2spk", lambda lines: lines[1:2] + lines[:1] + lines[2:], r"utt2spk:2: not sorted"),
    ("wav.scp", lambda lines: lines[:3] + lines[2:], r"wav.scp:4: duplicate key"),
    ("utt2dur", lambda lines: lines[:-1], r"utt2dur: has no entry for utterance 'id3-v3-00003'"),
    ("spk2utt", lambda lines: lines[:1] + [lines[1].rsplit(" ", 1)[0] + "\n"] + lines[2:], r"spk2utt: disagrees .* 'id2'"),
    ("trials", lambda lines: lines + ["id1-v0-00000 nobody target\n"], r"trials:67: 'nobody' is not"),
    ("trials", lambda lines: ["id1-v0-00000 id1-v1-00001 same\n"], r"trials:1: label 'same'"),
    ("utt2spk", lambda lines: [l.replace(" id1\n", " id9\n") for l in lines], r"does not start with its speaker"),
    ("utt2dur", lambda lines: lines + ["id4-x 1\n"], r"'id4-x' is not in utt2spk"),
    ("utt2spk", lambda lines: ["id1-v0-00000\n"] + lines[1:], r"utt2spk:1: expected 2..n fields"),
])
def test_validation_names_file_and_line(tmp_path, name, corrupt, message):
    make_dir(tmp_path / "d")
    path = tmp_path / "d" / name
    lines = open(path).readlines()
    open(path, "w").writelines(corrupt(lines))
    with pytest.raises(DataDirError, match=message):
        validate_data_dir(tmp_path / "d")


def test_subset_filters_every_table_and_trials(tmp_path, caplog):
    utts = make_dir(tmp_path / "d")
    keep = [u for u in utts if not u.startswith("id3")] + ["not-there"]
    with caplog.at_level("INFO", logger="pyspk.io.datadir"):
        n = subset_data_dir(tmp_path / "d", tmp_path / "s", keep)
    assert n == 8
    d = validate_data_dir(tmp_path / "s")
    assert d.speakers == ["id1", "id2"]
    assert read_map(tmp_path / "s" / "spk2gender") == {"id1": "m", "id2": "f"}
    trials = read_table(tmp_path / "s" / "trials")
    assert len(trials) == 8 * 7 // 2
    assert "kept 8 of 12 utterances (4 dropped); kept 28 of 66 trials (38 dropped)" in caplog.text


def test_subset_with_features_drops_utterances_without_them(tmp_path):
    utts = make_dir(tmp_path / "all")
    make_dir(tmp_path / "all_spec")
    with ArkScpWriter(str(tmp_path / "f.ark"), str(tmp_path / "all_spec" / "feats.scp")) as w:
        for u in utts[1:]:  # the first utterance failed at extraction
            w.write(u, np.ones((5, 2)))
    subset_data_dir(tmp_path / "all", tmp_path / "x_spec", utts[:6], feats_from=tmp_path / "all_spec")
    d = validate_data_dir(tmp_path / "x_spec", need_feats=True)
    assert d.utts == utts[1:6]
    assert all(utts[0] not in row for row in read_table(tmp_path / "x_spec" / "trials"))


def test_split_is_contiguous_complete_and_reused(tmp_path):
    utts = make_dir(tmp_path / "d")
    parts = split_data_dir(tmp_path / "d", 5)
    got = [u for p in parts for u in DataDir(p).utts]
    assert got == utts and all(len(DataDir(p).utts) >= 2 for p in parts)
    mtime = (tmp_path / "d" / "split5" / "1" / "utt2spk").stat().st_mtime_ns
    split_data_dir(tmp_path / "d", 5)
    assert (tmp_path / "d" / "split5" / "1" / "utt2spk").stat().st_mtime_ns == mtime
    with pytest.raises(DataDirError, match="cannot split 12 utterances into 13"):
        split_data_dir(tmp_path / "d", 13)


def test_fix_keeps_only_complete_utterances(tmp_path):
    utts = make_dir(tmp_path / "d")
    write_table(tmp_path / "d" / "utt2dur", [[u, "1"] for u in utts[2:]])
    fix_data_dir(tmp_path / "d")
    d = validate_data_dir(tmp_path / "d")
    assert d.utts == utts[2:]
    assert read_list_map(tmp_path / "d" / "spk2utt")["id1"] == utts[2:4]


def test_missing_table_is_named(tmp_path):
    with pytest.raises(TableError, match="utt2spk: no such file"):
        (tmp_path / "e").mkdir()
        DataDir(tmp_path / "e")
