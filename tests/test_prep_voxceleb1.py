"""Stage 0 data preparation on VoxCeleb1/VoxCeleb2-layout fixtures built here, and on the shared corpus."""
import logging
import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from conftest import ROOT
from pyspk.corpora.audio_files import find_audio
from pyspk.corpora.datadir_writer import DataDirWriter
from pyspk.corpora.voxceleb import prepare_data_dirs
from pyspk.corpora.voxceleb_lists import CorpusError, read_genders
from pyspk.io.audio import load_audio, write_m4a
from pyspk.io.datadir import validate_data_dir
from pyspk.io.tables import read_map, read_table
from pyspk.io.voxceleb import utt_id

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


def tone(seconds, freq, rate=16000):
    return (0.3 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def write_audio(path, samples, ext):
    if ext == ".m4a":
        write_m4a(path, samples)
    else:
        soundfile.write(path, samples, 16000, subtype="PCM_16", format="WAV" if ext == ".wav" else "FLAC")


def make_corpus(root, ext=".wav", store_ext=".wav", meta="vox1_meta.csv"):
    """A corpus in VoxCeleb1 layout: tones of a per-speaker pitch, lists naming ``ext`` files
    while the audio is stored as ``store_ext``."""
    split_lines = []
    for i, (spk, (_, utts)) in enumerate(SPEAKERS.items()):
        for split, session, n, seconds in utts:
            path = f"{spk}/{session}/{n}"
            os.makedirs(os.path.join(root, "wav", spk, session), exist_ok=True)
            write_audio(os.path.join(root, "wav", path + store_ext), tone(seconds, 150 * (i + 1)), store_ext)
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
    counts = prepare_data_dirs(corpus, data)
    assert counts == {"all": 10, "iden_train": 5, "iden_val": 2, "iden_test": 3, "veri_train": 4, "veri_val": 1,
                      "veri_test": 6}
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
    assert list(read_map(os.path.join(data, "veri_val", "utt2spk"))) == ["id10001-vidB-00001"]
    assert read_map(os.path.join(data, "veri_test", "spk2gender")) == {"id10002": "f", "id10003": "f"}
    trials = read_table(os.path.join(data, "veri_test", "trials"), 3, 3)
    assert trials == [["id10002-x_y-Z-00001", "id10002-x_y-Z-00003", "target"],
                      ["id10002-x_y-Z-00001", "id10003-v1-00001", "nontarget"],
                      ["id10003-v2-00001", "id10003-v1-00002", "target"],
                      ["id10003-v1-00002", "id10002-x_y-Z-00002", "nontarget"]]
    assert read_table(os.path.join(data, "veri_test", "trials_vox1_O"), 3, 3) == trials
    assert not os.path.exists(os.path.join(data, "all", "trials"))


def test_lists_say_wav_corpus_stores_flac_and_missing_files(tmp_path, caplog):
    corpus = make_corpus(str(tmp_path / "corpus"), store_ext=".flac", meta="meta.csv")
    os.makedirs(os.path.join(corpus, "vox1_test_wav", "wav"))  # one speaker where VoxCeleb1's test zip puts it
    os.rename(os.path.join(corpus, "wav", "id10002"), os.path.join(corpus, "vox1_test_wav", "wav", "id10002"))
    os.unlink(os.path.join(corpus, "wav/id10003/v1/00001.flac"))            # missing
    open(os.path.join(corpus, "wav/id10001/vidA/00002.flac"), "w").close()  # empty
    data = str(tmp_path / "data")
    with caplog.at_level(logging.INFO):
        counts = prepare_data_dirs(corpus, data)
    log = caplog.messages
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
        prepare_data_dirs(corpus, data, max_bad_fraction=0.4)


def test_m4a_is_listed_as_itself_and_decoded_in_process(tmp_path):
    """wav.scp names the .m4a file (no ffmpeg pipe); its duration comes from the MP4 header, which
    counts the AAC encoder's priming and padding (under 0.13 s here); the audio decodes to the tone."""
    corpus = make_corpus(str(tmp_path / "corpus"), ext=".m4a", store_ext=".m4a")
    data = str(tmp_path / "data")
    prepare_data_dirs(corpus, data)
    entry = read_map(os.path.join(data, "all", "wav.scp"))["id10001-vidA-00001"]
    path = os.path.join(os.path.abspath(corpus), "wav/id10001/vidA/00001.m4a")
    assert entry == path
    assert 1.5 <= float(read_map(os.path.join(data, "all", "utt2dur"))["id10001-vidA-00001"]) < 1.63
    samples, notes = load_audio(entry)
    assert notes == [] and 1.5 * 16000 <= len(samples) < 1.63 * 16000
    assert np.argmax(np.abs(np.fft.rfft(samples[2000:18000]))) == 150  # 1 Hz bins over 1 s: the 150 Hz tone
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


def test_corpus_path_with_whitespace_is_refused(tmp_path, caplog):
    corpus = make_corpus(str(tmp_path / "my corpus"))
    with pytest.raises(CorpusError, match="no usable audio among 10 listed utterances"):
        prepare_data_dirs(corpus, str(tmp_path / "data"))
    assert "path contains whitespace" in caplog.messages[1]


# VoxCeleb1-E/H style lists: pairs across all speakers (id10001 is in no vox1_O trial).
EXTRA_LISTS = {
    "veri_test2.txt": TRIALS[:3],
    "list_test_all.txt": [("1", "id10001/vidA/00001.wav", "id10001/vidB/00002.wav"),
                          ("0", "id10001/vidA/00002.wav", "id10002/x_y-Z/00001.wav"),
                          ("0", "id10003/v1/00001.wav", "id10001/vidA/00001.wav")],
    "list_test_hard2.txt": [("1", "id10002/x_y-Z/00002.wav", "id10002/x_y-Z/00003.wav"),
                            ("0", "id10002/x_y-Z/00002.wav", "id10003/v2/00001.wav")],
}


def add_lists(corpus, lists):
    for name, rows in lists.items():
        with open(os.path.join(corpus, name), "w") as f:
            f.writelines(f"{y} {a} {b}\n" for y, a, b in rows)


def test_every_trial_list_of_the_corpus_root_becomes_a_trials_file(tmp_path, caplog):
    corpus = make_corpus(str(tmp_path / "corpus"))
    data = tmp_path / "data"
    prepare_data_dirs(corpus, str(data))  # vox1_O alone: VoxCeleb1's other speakers train verification
    assert (data / "veri_train").is_dir()
    add_lists(corpus, EXTRA_LISTS)
    with caplog.at_level(logging.INFO):
        counts = prepare_data_dirs(corpus, str(data))
    test = data / "veri_test"
    assert sorted(f.name for f in test.glob("trials*")) == [
        "trials", "trials_vox1_E", "trials_vox1_H_clean", "trials_vox1_O", "trials_vox1_O_clean"]
    for file, name in (("veri_test.txt", "vox1_O"), ("veri_test2.txt", "vox1_O_clean"),
                       ("list_test_all.txt", "vox1_E"), ("list_test_hard2.txt", "vox1_H_clean")):
        listed = read_table(os.path.join(corpus, file), 3, 3)
        assert read_table(test / f"trials_{name}", 3, 3) == [
            [utt_id(a), utt_id(b), "target" if y == "1" else "nontarget"] for y, a, b in listed], name
    assert read_table(test / "trials", 3, 3) == read_table(test / "trials_vox1_O", 3, 3)
    # vox1_E names all three speakers: the test set is the whole corpus, nobody is left to train on.
    assert counts["veri_test"] == counts["all"] == 10 and counts["veri_train"] == counts["veri_val"] == 0
    validate_data_dir(test)
    assert not (data / "veri_train").exists() and not (data / "veri_val").exists()
    assert any(f"{data}/veri_train not made" in m and "--train-corpus-root" in m for m in caplog.messages)
    # Choosing the lists brings the training speakers back.
    counts = prepare_data_dirs(corpus, str(data), trial_lists=["vox1_O", "vox1_O_clean"])
    assert counts["veri_train"] == 4 and sorted(f.name for f in test.glob("trials_*")) == [
        "trials_vox1_O", "trials_vox1_O_clean"]
    with pytest.raises(CorpusError, match="list_test_hard.txt: no such file"):
        prepare_data_dirs(corpus, str(data), trial_lists=["vox1_H"])


def make_voxceleb2(root, speakers=(("id00012", "m", {"vidA": 2, "vidB": 2}), ("id00015", "f", {"zz-9": 2}))):
    """A training corpus in VoxCeleb2 dev layout, as vox2_dev_aac unpacks (dev/aac/...), with its
    vox2_meta.csv (byte-order mark, blanks around fields)."""
    for i, (spk, _, videos) in enumerate(speakers):
        for video, n in videos.items():
            for k in range(n):
                path = os.path.join(root, "dev", "aac", spk, video, f"{k + 1:05d}.m4a")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_m4a(path, tone(1.0 + 0.25 * k, 200 + 40 * i))
    with open(os.path.join(root, "vox2_meta.csv"), "w", encoding="utf-8-sig") as f:
        f.write("VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set \n")
        f.writelines(f"{spk} ,n{spk[2:]} ,{g} ,dev \n" for spk, g, _ in speakers)
    return root


def test_voxceleb2_trains_voxceleb1_tests(tmp_path):
    corpus = make_corpus(str(tmp_path / "vox1"))
    add_lists(corpus, EXTRA_LISTS)
    vox2 = make_voxceleb2(str(tmp_path / "vox2"))
    data = tmp_path / "data"
    out = subprocess.run(["local/prepare_voxceleb1.sh", "--train-corpus-root", vox2, corpus, str(data)], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    counts = {d.name: len(validate_data_dir(d).utts) for d in data.iterdir()}
    assert counts == {"all": 16, "iden_train": 5, "iden_val": 2, "iden_test": 3, "veri_train": 6, "veri_val": 1,
                      "veri_test": 10}
    utt2spk = read_map(data / "veri_train" / "utt2spk")
    assert sorted(set(utt2spk.values())) == ["id00012", "id00015"]
    assert "id00015-zz-9-00002" in utt2spk
    # One validation utterance per speaker with two videos or more, from its last video.
    assert list(read_map(data / "veri_val" / "utt2spk")) == ["id00012-vidB-00001"]
    assert read_map(data / "veri_train" / "spk2gender") == {"id00012": "m", "id00015": "f"}
    wav = read_map(data / "veri_train" / "wav.scp")["id00012-vidA-00002"]
    assert wav == os.path.join(vox2, "dev", "aac", "id00012", "vidA", "00002.m4a")
    assert 1.25 <= float(read_map(data / "all" / "utt2dur")["id00012-vidA-00002"]) < 1.38
    assert set(read_map(data / "veri_test" / "utt2spk").values()) == {"id10001", "id10002", "id10003"}
    check = ["utils/check_disjoint_speakers.sh", str(data / "veri_train"), str(data / "veri_test")]
    assert subprocess.run(check, cwd=ROOT, capture_output=True).returncode == 0
    # A VoxCeleb1 speaker inside the training corpus: stage 0 makes the dirs, the disjointness check refuses.
    os.makedirs(os.path.join(vox2, "dev", "aac", "id10003", "other"))
    write_m4a(os.path.join(vox2, "dev", "aac", "id10003", "other", "00001.m4a"), tone(1.0, 300))
    prepare_data_dirs(corpus, str(data), train_corpus_root=vox2)
    out = subprocess.run(check, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and "1 speaker(s)" in out.stderr and "id10003" in out.stderr


def test_test_only_corpora_prepare_what_they_can(tmp_path, caplog):
    """VoxCeleb1's test part alone: the listed speakers without audio folders are no error, the
    splits that cannot be made are warned about, and run.sh stages needing them stop up front."""
    corpus = make_corpus(str(tmp_path / "corpus"))
    shutil.rmtree(os.path.join(corpus, "wav", "id10001"))  # 4 of 10 listed utterances: not downloaded
    data = tmp_path / "data"
    os.makedirs(data / "veri_train")  # a stale dir of an earlier run goes
    with caplog.at_level(logging.INFO):
        counts = prepare_data_dirs(corpus, str(data), max_bad_fraction=0.1)
    assert counts == {"all": 6, "iden_train": 3, "iden_val": 1, "iden_test": 2, "veri_train": 0, "veri_val": 0,
                      "veri_test": 6}
    assert sorted(d.name for d in data.iterdir()) == ["all", "iden_test", "iden_train", "iden_val", "veri_test"]
    assert any("4 listed utterances left out: its speaker has no audio folder" in m for m in caplog.messages)
    assert not any("skipping" in m for m in caplog.messages)
    assert any(f"{data}/veri_val not made" in m for m in caplog.messages)
    # A missing file of a speaker that is there still counts as bad.
    os.unlink(os.path.join(corpus, "wav", "id10002", "x_y-Z", "00002.wav"))
    with pytest.raises(CorpusError, match="1 of 6 utterances unusable, more than --max-bad-fraction=0.1"):
        prepare_data_dirs(corpus, str(data), max_bad_fraction=0.1)

    # iden_split.txt without validation lines (and no trial list): no iden_val, no veri_val, no veri_test.
    corpus = make_corpus(str(tmp_path / "corpus2"))
    os.unlink(os.path.join(corpus, "veri_test.txt"))
    with open(os.path.join(corpus, "iden_split.txt")) as f:
        lines = [line for line in f if not line.startswith("2 ")]
    with open(os.path.join(corpus, "iden_split.txt"), "w") as f:
        f.writelines(lines)
    data = tmp_path / "data2"
    caplog.clear()
    with caplog.at_level(logging.INFO):
        counts = prepare_data_dirs(corpus, str(data))
    assert counts == {"all": 8, "iden_train": 5, "iden_val": 0, "iden_test": 3, "veri_train": 8, "veri_val": 0,
                      "veri_test": 0}
    assert any("iden_val not made: iden_split.txt has no '2' (validation) line" in m for m in caplog.messages)
    for d in ("iden_train", "iden_test", "veri_train"):
        validate_data_dir(data / d)

    # run.sh: stages 2-3 need iden_val, stage 4 veri_val, stage 6 veri_test: each stops before any work.
    def run_stage(stage):
        out = subprocess.run(["./run.sh", "--stage", str(stage), "--stop-stage", str(stage), "--corpus-root", corpus,
                              "--data", str(data), "--exp", str(tmp_path / "exp")], cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 1, out.stdout + out.stderr
        return out.stderr
    # Stage 3 (whose SVMs choose C on iden_val) names the split no stage can make before the missing features.
    assert f"needs {data}/iden_val_spec, but stage 0 could not make {data}/iden_val" in run_stage(3)
    # Stage 2 lacks iden_train_spec (stage 1 makes it) and iden_val (no stage can): it names the latter.
    assert f"needs {data}/iden_val_spec, but stage 0 could not make {data}/iden_val" in run_stage(2)
    for d in ("iden_train", "iden_test", "veri_train"):  # what stage 1 makes of the splits there are
        shutil.copytree(data / d, data / f"{d}_spec")
    for stage, missing in ((2, "iden_val"), (3, "iden_val"), (4, "veri_val"), (6, "veri_test")):
        assert f"needs {data}/{missing}_spec, but stage 0 could not make {data}/{missing} from {corpus}" in run_stage(stage)
    assert not (tmp_path / "exp").exists()


def test_data_dir_writer_checks_as_it_writes(tmp_path):
    """What lets stage 0 skip re-reading its dirs: out-of-order, repeated or wrongly prefixed ids
    are refused, and a dir is published whole or not at all."""
    out = tmp_path / "d"
    with DataDirWriter(out, {"s1": "f"}) as w:
        w.add("s1-a", "s1", "/x/a.wav", 1.0)
        w.add("s1-b", "s1", "/x/b.wav", 2.5)
        w.add("s2-a", "s2", "/x/c.wav", 0.25)
    assert read_map(out / "spk2utt") == {"s1": "s1-a s1-b", "s2": "s2-a"}
    assert read_map(out / "spk2gender") == {"s1": "f"}
    validate_data_dir(out)
    for utts, error in (([("s1-b", "s1"), ("s1-a", "s1")], "out of order"), ([("s1-a", "s1"), ("s1-a", "s1")], "twice"),
                        ([("s1-a", "s2")], "does not start with its speaker id"),
                        ([("a-b-1", "a"), ("a-b-2", "a-b"), ("a-c", "a")], "speaker ids must be prefixes")):
        with pytest.raises(ValueError, match=error), DataDirWriter(out) as w:
            for utt, spk in utts:
                w.add(utt, spk, "/x/a.wav", 1.0)
        assert read_map(out / "utt2spk") == {"s1-a": "s1", "s1-b": "s1", "s2-a": "s2"}  # the old dir, untouched
        assert sorted(os.listdir(out)) == ["spk2gender", "spk2utt", "utt2dur", "utt2spk", "wav.scp"]  # no temp file
