"""Stage 0 data preparation on a VoxCeleb1-layout fixture built here, and on the shared corpus."""
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from pyspk.io.datadir import validate_data_dir
from pyspk.io.tables import read_map, read_table
from pyspk.io.voxceleb import CorpusError, find_audio, prepare_data_dirs, read_genders, utt_id

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data", "speechocean762")

# speaker -> (gender, [(split, session, n, seconds)])
SPEAKERS = {
    "id10001": ("m", [(1, "vidA", "00001", 1.5), (1, "vidA", "00002", 2.0), (2, "vidB", "00001", 1.0),
                      (3, "vidB", "00002", 1.25)]),
    "id10002": ("f", [(1, "x_y-Z", "00001", 1.0), (1, "x_y-Z", "00002", 0.5), (3, "x_y-Z", "00003", 2.5)]),
    "id10003": ("f", [(1, "v1", "00001", 1.0), (2, "v1", "00002", 1.0), (3, "v2", "00001", 0.75)]),
}
TRIALS = [("1", "id10002/x_y-Z/00001.wav", "id10002/x_y-Z/00003.wav"),
          ("0", "id10002/x_y-Z/00001.wav", "id10003/v1/00001.wav"),
          ("1", "id10003/v2/00001.wav", "id10003/v1/00002.wav"),
          ("0", "id10003/v1/00002.wav", "id10002/x_y-Z/00002.wav")]


def make_corpus(root, ext=".wav", store_ext=".wav", meta="vox1_meta.csv"):
    """A corpus in VoxCeleb1 layout: tones of a per-speaker pitch, lists naming ``ext`` files
    while the audio is stored as ``store_ext``."""
    split_lines = []
    for i, (spk, (_, utts)) in enumerate(SPEAKERS.items()):
        for split, session, n, seconds in utts:
            path = f"{spk}/{session}/{n}"
            os.makedirs(os.path.join(root, "wav", spk, session), exist_ok=True)
            t = np.arange(int(seconds * 16000)) / 16000
            soundfile.write(os.path.join(root, "wav", path + store_ext), 0.3 * np.sin(2 * np.pi * 150 * (i + 1) * t),
                            16000, subtype="PCM_16", format="WAV" if store_ext == ".wav" else "FLAC")
            split_lines.append(f"{split} {path}{ext}\n")
    with open(os.path.join(root, "iden_split.txt"), "w") as f:
        f.writelines(split_lines)
    with open(os.path.join(root, "veri_test.txt"), "w") as f:
        f.writelines(f"{y} {a.replace('.wav', ext)} {b.replace('.wav', ext)}\n" for y, a, b in TRIALS)
    if meta == "vox1_meta.csv":  # VoxCeleb's own header and columns
        rows = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
        rows += [f"{spk}\tName_{spk}\t{g}\tIreland\tdev" for spk, (g, _) in SPEAKERS.items()]
    else:
        rows = ["speaker\tgender\tage\tset"] + [f"{spk}\t{g}\t30\tdev" for spk, (g, _) in SPEAKERS.items()]
    with open(os.path.join(root, meta), "w") as f:
        f.write("\n".join(rows) + "\n")
    return root


def test_fixture_corpus(tmp_path):
    corpus = make_corpus(str(tmp_path / "corpus"))
    data = str(tmp_path / "data")
    log = []
    counts = prepare_data_dirs(corpus, data, log=log.append)
    assert counts == {"all": 10, "iden_train": 5, "iden_val": 2, "iden_test": 3, "veri_train": 4, "veri_test": 6}
    for name in counts:
        validate_data_dir(os.path.join(data, name))
        for table in ("wav.scp", "utt2spk", "utt2dur", "spk2utt", "spk2gender"):
            keys = [r[0] for r in read_table(os.path.join(data, name, table))]
            assert keys == sorted(keys, key=lambda k: k.encode()), (name, table)
    utt2spk = read_map(os.path.join(data, "all", "utt2spk"))
    assert utt2spk["id10002-x_y-Z-00003"] == "id10002"
    wav = read_map(os.path.join(data, "all", "wav.scp"))
    assert wav["id10001-vidA-00001"] == os.path.join(os.path.abspath(corpus), "wav/id10001/vidA/00001.wav")
    dur = read_map(os.path.join(data, "all", "utt2dur"))
    assert dur["id10001-vidA-00001"] == "1.500" and dur["id10002-x_y-Z-00002"] == "0.500"
    assert read_map(os.path.join(data, "all", "spk2gender")) == {"id10001": "m", "id10002": "f", "id10003": "f"}
    assert set(read_map(os.path.join(data, "iden_val", "utt2spk"))) == {"id10001-vidB-00001", "id10003-v1-00002"}
    assert set(read_map(os.path.join(data, "veri_train", "utt2spk")).values()) == {"id10001"}
    assert read_map(os.path.join(data, "veri_test", "spk2gender")) == {"id10002": "f", "id10003": "f"}
    trials = read_table(os.path.join(data, "veri_test", "trials"), 3, 3)
    assert trials == [["id10002-x_y-Z-00001", "id10002-x_y-Z-00003", "target"],
                      ["id10002-x_y-Z-00001", "id10003-v1-00001", "nontarget"],
                      ["id10003-v2-00001", "id10003-v1-00002", "target"],
                      ["id10003-v1-00002", "id10002-x_y-Z-00002", "nontarget"]]
    assert not os.path.exists(os.path.join(data, "all", "trials"))


def test_lists_say_wav_corpus_stores_flac_and_missing_files(tmp_path):
    corpus = make_corpus(str(tmp_path / "corpus"), store_ext=".flac", meta="meta.csv")
    os.makedirs(os.path.join(corpus, "vox1_test_wav", "wav"))  # one speaker where VoxCeleb1's test zip puts it
    os.rename(os.path.join(corpus, "wav", "id10002"), os.path.join(corpus, "vox1_test_wav", "wav", "id10002"))
    os.unlink(os.path.join(corpus, "wav/id10003/v1/00001.flac"))            # missing
    open(os.path.join(corpus, "wav/id10001/vidA/00002.flac"), "w").close()  # empty
    data = str(tmp_path / "data")
    log = []
    counts = prepare_data_dirs(corpus, data, log=log.append)
    assert counts["all"] == 8 and counts["veri_test"] == 5
    warnings = [line for line in log if line.startswith("WARNING")]
    assert len(warnings) == 2
    assert any("skipping id10003-v1-00001" in w and "no such file" in w for w in warnings)
    assert any("skipping id10001-vidA-00002" in w and "00002.flac" in w and "empty file" in w for w in warnings)
    assert any("8 of 10 utterances usable, 2 skipped" in line for line in log)
    assert any("kept 3 of 4 trials (1 dropped" in line for line in log)
    wav = read_map(os.path.join(data, "all", "wav.scp"))
    assert wav["id10001-vidA-00001"] == os.path.join(os.path.abspath(corpus), "wav/id10001/vidA/00001.flac")
    assert wav["id10002-x_y-Z-00001"].endswith("vox1_test_wav/wav/id10002/x_y-Z/00001.flac")
    assert read_map(os.path.join(data, "all", "spk2gender"))["id10001"] == "m"

    for f in ("wav/id10001/vidA/00001.flac", "wav/id10001/vidB/00001.flac",
              "vox1_test_wav/wav/id10002/x_y-Z/00001.flac"):
        os.unlink(os.path.join(corpus, f))
    with pytest.raises(CorpusError, match="5 of 10 utterances unusable, more than --max-bad-fraction=0.4"):
        prepare_data_dirs(corpus, data, max_bad_fraction=0.4, log=log.append)


def test_m4a_goes_through_an_ffmpeg_pipe(tmp_path, monkeypatch):
    """A stand-in ffmpeg on PATH (decodes with soundfile) checks the wav.scp pipe line end to end."""
    corpus = make_corpus(str(tmp_path / "corpus"), ext=".m4a", store_ext=".m4a")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "ffmpeg"
    fake.write_text(f"#!{sys.executable}\n"
                    "import sys, io, soundfile\n"
                    "x, sr = soundfile.read(sys.argv[sys.argv.index('-i') + 1])\n"
                    "b = io.BytesIO(); soundfile.write(b, x, sr, format='WAV', subtype='PCM_16')\n"
                    "sys.stdout.buffer.write(b.getvalue())\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    data = str(tmp_path / "data")
    prepare_data_dirs(corpus, data, log=lambda m: None)
    entry = read_map(os.path.join(data, "all", "wav.scp"))["id10001-vidA-00001"]
    path = os.path.join(os.path.abspath(corpus), "wav/id10001/vidA/00001.m4a")
    assert entry == f"ffmpeg -nostdin -loglevel error -i {path} -f wav -ar 16000 -ac 1 - |"
    assert read_map(os.path.join(data, "all", "utt2dur"))["id10001-vidA-00001"] == "1.500"
    assert find_audio(corpus, "id10001/vidA/00001.wav") == path and find_audio(corpus, "id10001/vidA/9.m4a") is None


def test_bad_lists_name_the_line(tmp_path):
    corpus = make_corpus(str(tmp_path / "corpus"))
    with open(os.path.join(corpus, "iden_split.txt"), "a") as f:
        f.write("4 id10001/vidA/00001.wav\n")
    with pytest.raises(CorpusError, match=r"iden_split.txt:11: expected '1\|2\|3 <path>'"):
        prepare_data_dirs(corpus, str(tmp_path / "data"))
    with open(os.path.join(corpus, "meta.csv"), "w") as f:
        f.write("speaker,gender\nid1,x\n")
    with pytest.raises(CorpusError, match="meta.csv:2: gender must be"):
        read_genders(os.path.join(corpus, "meta.csv"))
    assert utt_id("id10270/x6uYqmx31kE/00001.wav") == "id10270-x6uYqmx31kE-00001"


def test_script_on_the_shared_corpus(tmp_path):
    if not os.path.isfile(os.path.join(SHARED, "iden_split.txt")):
        pytest.skip(f"{SHARED} not present")
    out = subprocess.run(["local/prepare_voxceleb1.sh", SHARED, str(tmp_path / "data")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    data = tmp_path / "data"
    all_dir = validate_data_dir(data / "all")
    assert len(all_dir.utts) == 1500 and len(all_dir.speakers) == 125
    trials = read_table(data / "veri_test" / "trials", 3, 3)
    assert len(trials) == 18150
    split = read_table(os.path.join(SHARED, "iden_split.txt"), 2, 2)
    for code, name in (("1", "iden_train"), ("2", "iden_val"), ("3", "iden_test")):
        assert len(validate_data_dir(data / name).utts) == sum(r[0] == code for r in split)
    test_speakers = {r[i].split("/")[0] for r in read_table(os.path.join(SHARED, "veri_test.txt"), 3, 3) for i in (1, 2)}
    assert set(validate_data_dir(data / "veri_test").speakers) == test_speakers
    assert len(validate_data_dir(data / "veri_train").speakers) == 125 - len(test_speakers)


def test_corpus_path_with_whitespace_is_refused(tmp_path):
    corpus = make_corpus(str(tmp_path / "my corpus"))
    log = []
    with pytest.raises(CorpusError, match="no usable audio among 10 listed utterances"):
        prepare_data_dirs(corpus, str(tmp_path / "data"), log=log.append)
    assert "path contains whitespace" in log[1]
