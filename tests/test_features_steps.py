"""The stage 1 step scripts on a data dir full of bad input: what is skipped, resampled, downmixed,
when the step fails, and a step killed half-way then rerun."""
import fcntl
import glob
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import soundfile

from conftest import ROOT
from pyspk.features.extract import StepError, combine_parts, transform_features
from pyspk.features.vad import compute_vad
from pyspk.io.datadir import validate_data_dir, write_spk2utt
from pyspk.io.kaldi_table import ArkScpWriter, load_scp
from pyspk.io.tables import read_map, write_map

DEMO = os.path.join(ROOT, "egs/demo/corpus/wav")
GOOD = ["so0001/s0/000010011.flac", "so0001/s0/000010035.flac", "so0005/s0/000050003.flac"]
BAD = {  # utterance -> reason expected in the log
    "spk2-missing": "no such file",
    "spk2-empty": "empty file",
    "spk2-truncated": "truncated",
    "spk2-notaudio": "not readable audio",
    "spk2-short": "shorter than one window",
}


def make_bad_data_dir(root):
    """A data dir of 11 utterances: 6 usable (3 FLAC, one 8 kHz WAV, one stereo WAV, one pipe), 5 bad."""
    audio, data = os.path.join(root, "audio"), os.path.join(root, "data")
    os.makedirs(audio)
    wav = {}
    for i, path in enumerate(GOOD):
        wav[f"spk1-good{i}"] = os.path.join(DEMO, path)
    x, _ = soundfile.read(os.path.join(DEMO, GOOD[0]), dtype="float32")
    soundfile.write(f"{audio}/8k.wav", x[::2], 8000, subtype="PCM_16")
    soundfile.write(f"{audio}/stereo.wav", np.stack([x, 0.5 * x], axis=1), 16000, subtype="PCM_16")
    wav["spk1-rate8k"], wav["spk1-stereo"] = f"{audio}/8k.wav", f"{audio}/stereo.wav"
    wav["spk1-pipe"] = f"cat {os.path.join(DEMO, GOOD[1])} |"
    wav["spk2-missing"] = f"{audio}/missing.wav"
    open(f"{audio}/empty.wav", "wb").close()
    wav["spk2-empty"] = f"{audio}/empty.wav"
    soundfile.write(f"{audio}/full.wav", x, 16000, subtype="PCM_16")
    with open(f"{audio}/full.wav", "rb") as f, open(f"{audio}/truncated.wav", "wb") as g:
        g.write(f.read()[:30000])
    wav["spk2-truncated"] = f"{audio}/truncated.wav"
    with open(f"{audio}/notaudio.wav", "w") as f:
        f.write("RIFF? no, a text file\n" * 50)
    wav["spk2-notaudio"] = f"{audio}/notaudio.wav"
    soundfile.write(f"{audio}/short.wav", x[:300], 16000, subtype="PCM_16")  # < 320 and < 400 samples
    wav["spk2-short"] = f"{audio}/short.wav"
    os.makedirs(data)
    write_map(f"{data}/wav.scp", wav)
    utt2spk = {u: u.split("-")[0] for u in wav}
    write_map(f"{data}/utt2spk", utt2spk)
    write_spk2utt(data, utt2spk)
    validate_data_dir(data)
    return data


def run(*args, check=True):
    out = subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True)
    if check:
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def job_logs(pattern):
    return "".join(open(p).read() for p in sorted(glob.glob(pattern)))


def test_spectrogram_step_skips_bad_input_and_keeps_the_rest(tmp_path):
    data = make_bad_data_dir(str(tmp_path))
    run("steps/make_spectrogram.sh", "--nj", "2", data, f"{tmp_path}/exp", f"{tmp_path}/spec")
    feats = load_scp(f"{data}/feats.scp")
    assert sorted(feats.keys()) == ["spk1-good0", "spk1-good1", "spk1-good2", "spk1-pipe", "spk1-rate8k", "spk1-stereo"]
    n = soundfile.info(os.path.join(DEMO, GOOD[0])).frames
    assert feats["spk1-good0"].shape == (1 + n // 160, 161)
    assert feats["spk1-rate8k"].shape == (1 + 2 * ((n + 1) // 2) // 160, 161)  # resampled to 16 kHz
    np.testing.assert_array_equal(feats["spk1-pipe"], feats["spk1-good1"])
    # Downmix: the mean of x and x/2 is 0.75 x, i.e. log power + 2 log 0.75 (16-bit rounding aside).
    loud = feats["spk1-good0"] > np.percentile(feats["spk1-good0"], 75)
    offset = feats["spk1-stereo"][loud] - feats["spk1-good0"][loud]
    assert abs(np.median(offset) - 2 * np.log(0.75)) < 0.01
    assert read_map(f"{data}/utt2num_frames")["spk1-good0"] == str(1 + n // 160)

    logs = job_logs(f"{tmp_path}/exp/log/make_spec_data.*.log")
    for utt, reason in BAD.items():
        line = next(ln for ln in logs.splitlines() if ln.startswith(f"WARNING: skipping {utt} "))
        assert reason in line, line
    assert "spk2-truncated (" + f"{tmp_path}/audio/truncated.wav): truncated" in logs
    assert "1 downmixed" in logs and "1 resampled" in logs
    assert sum(ln.startswith("compute_spectrogram: ") and "utterances written" in ln for ln in logs.splitlines()) == 2

    failed = run("steps/make_spectrogram.sh", "--nj", "2", "--max-bad-fraction", "0.4", data,
                 f"{tmp_path}/exp", f"{tmp_path}/spec", check=False)
    assert failed.returncode != 0
    assert "5 of 11 utterances skipped, more than --max-bad-fraction=0.4" in failed.stderr
    assert not os.path.exists(f"{data}/feats.scp")  # moved to .backup, never half-written
    assert os.path.exists(f"{data}/.backup/feats.scp")


def test_mfcc_and_vad_steps(tmp_path):
    data = make_bad_data_dir(str(tmp_path))
    run("steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", "conf/mfcc.conf", data, f"{tmp_path}/exp", f"{tmp_path}/mfcc")
    run("steps/compute_vad_decision.sh", "--nj", "2", data, f"{tmp_path}/exp_vad", f"{tmp_path}/vad")
    feats, vad = load_scp(f"{data}/feats.scp"), load_scp(f"{data}/vad.scp")
    good = ["spk1-good0", "spk1-good1", "spk1-good2", "spk1-pipe", "spk1-rate8k", "spk1-stereo"]
    assert sorted(feats.keys()) == good and sorted(vad.keys()) == good
    for utt in feats.keys():
        assert feats[utt].shape[1] == 13 and vad[utt].shape == (feats[utt].shape[0],)
        assert 0.2 < vad[utt].mean() <= 1.0
    n = soundfile.info(os.path.join(DEMO, GOOD[0])).frames
    assert feats["spk1-good0"].shape[0] == (n + 80) // 160
    assert "WARNING: skipping spk2-short" in job_logs(f"{tmp_path}/exp/log/make_mfcc_data.*.log")


def test_step_killed_half_way_then_rerun(tmp_path):
    data = make_bad_data_dir(str(tmp_path))
    run("steps/make_spectrogram.sh", "--nj", "2", data, f"{tmp_path}/exp", f"{tmp_path}/spec")
    complete = open(f"{data}/feats.scp").read()
    wav = read_map(f"{data}/wav.scp")
    good = wav["spk1-good1"]
    # Job 1 reaches this utterance (its ark open), says so by creating <reached>, then blocks on a FIFO
    # nobody writes: it is killed there, mid-way through its ark, whatever the machine's speed.
    reached, gate = tmp_path / "reached", tmp_path / "gate"
    os.mkfifo(gate)
    wav["spk1-good1"] = f"touch {reached}; cat {gate} >/dev/null; cat {good} |"
    write_map(f"{data}/wav.scp", wav)
    proc = subprocess.Popen(["steps/make_spectrogram.sh", "--nj", "2", data, f"{tmp_path}/exp", f"{tmp_path}/spec"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not reached.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # waiting for the event, not timing it
    assert reached.exists(), "the job never reached the blocking utterance"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert glob.glob(f"{tmp_path}/spec/.*.ark.*.tmp"), "the job was not caught mid-way"
    assert not os.path.exists(f"{data}/feats.scp")
    for part in glob.glob(f"{tmp_path}/spec/*.scp"):  # any part scp left points at a complete ark
        assert all(np.isfinite(m).all() for m in load_scp(part).values())

    # A job killed inside an atomic write (pyspk.io.atomic) leaves its hidden temp file; whether this
    # kill caught one of the part scp or of the data dir's files depends on timing, so leave them as
    # such a kill would.
    archive = os.path.basename(glob.glob(f"{tmp_path}/spec/.*.ark.*.tmp")[0]).split(".")[1]
    open(f"{tmp_path}/spec/.{archive}.2.scp.k1ll3d00.tmp", "w").write("spk1-good2 half-written")
    open(f"{data}/.feats.scp.k1ll3d00.tmp", "w").write("spk1-good2 half-written")

    wav["spk1-good1"] = good
    write_map(f"{data}/wav.scp", wav)
    run("steps/make_spectrogram.sh", "--nj", "2", data, f"{tmp_path}/exp", f"{tmp_path}/spec")
    assert open(f"{data}/feats.scp").read() == complete
    assert not [f for f in os.listdir(f"{tmp_path}/spec") + os.listdir(data) if "tmp" in f]


def test_combine_parts_fails_when_nothing_is_usable(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    write_map(data / "utt2spk", {"a-1": "a", "a-2": "a"})
    (tmp_path / "p1.scp").write_text("")
    with pytest.raises(StepError, match="no utterance produced feats.scp"):
        combine_parts(str(data), [str(tmp_path / "p1.scp")], "feats.scp")
    assert not (data / "feats.scp").exists()


def test_vad_job_skips_unreadable_feature_entries(tmp_path, caplog):
    with ArkScpWriter(tmp_path / "m.ark", tmp_path / "m.scp") as w:
        w.write("a-1", np.full((20, 13), 20.0, np.float32))
        w.write("a-2", np.full((30, 13), 8.0, np.float32))
    size = os.path.getsize(tmp_path / "m.ark")
    with open(tmp_path / "m.ark", "r+b") as f:
        f.truncate(size - 100)  # a-2 cut short
    caplog.set_level("INFO", logger="pyspk")
    stats = transform_features(str(tmp_path / "m.scp"), lambda utt, feats: compute_vad(feats),
                               str(tmp_path / "v.ark"), str(tmp_path / "v.scp"))
    log = caplog.messages
    assert (stats.written, stats.skipped) == (1, 1)
    assert log[0].startswith(f"WARNING: skipping a-2 ({tmp_path}/m.ark:") and "truncated" in log[0]
    assert log[1] == "compute-vad: 1 of 2 utterances written, 1 skipped (all audio used as stored); " + log[1].split("; ")[1]
    np.testing.assert_array_equal(load_scp(str(tmp_path / "v.scp"))["a-1"], np.ones(20, np.float32))


def demo_data_dir(path, speakers, per_speaker=3):
    """A data dir of the first ``per_speaker`` demo utterances of each speaker."""
    wav = {}
    for spk in speakers:
        for name in sorted(os.listdir(os.path.join(DEMO, spk, "s0")))[:per_speaker]:
            wav[f"{spk}-s0-{name.split('.')[0]}"] = os.path.join(DEMO, spk, "s0", name)
    os.makedirs(path)
    write_map(f"{path}/wav.scp", wav)
    utt2spk = {u: u.split("-")[0] for u in wav}
    write_map(f"{path}/utt2spk", utt2spk)
    write_spk2utt(path, utt2spk)
    return str(path)


def read_all(scp):
    return {k: np.array(v) for k, v in load_scp(scp).items()}


def test_data_dirs_of_one_name_sharing_a_featdir_keep_their_own_archives(tmp_path):
    """Issue case: two experiments, same data dir name, one --featdir: B must not overwrite A's arks."""
    a = demo_data_dir(tmp_path / "a" / "data", ["so0001"])
    b = demo_data_dir(tmp_path / "b" / "data", ["so0005"])
    run("steps/make_mfcc.sh", "--nj", "2", a, f"{tmp_path}/a/exp", f"{tmp_path}/mfcc")
    before = read_all(f"{a}/feats.scp")
    run("steps/make_mfcc.sh", "--nj", "2", b, f"{tmp_path}/b/exp", f"{tmp_path}/mfcc")
    after = read_all(f"{a}/feats.scp")
    assert after.keys() == before.keys()
    for utt in before:
        np.testing.assert_array_equal(after[utt], before[utt])
    assert len(glob.glob(f"{tmp_path}/mfcc/raw_mfcc_data_*.1.ark")) == 2


def test_derived_dir_refuses_once_its_source_features_are_rewritten(tmp_path):
    """Issue case: a stage-1 rerun with another --nj must not leave derived dirs reading replaced arks."""
    base, src = demo_data_dir(tmp_path / "all", ["so0001", "so0005"], 2), f"{tmp_path}/all_mfcc"
    run("utils/subset_data_dir.sh", base, src)
    run("steps/make_mfcc.sh", "--nj", "2", src, f"{tmp_path}/exp", f"{tmp_path}/mfcc")
    keep = sorted(read_map(f"{src}/utt2spk"))[1:3]
    write_map(f"{tmp_path}/keep", {u: "x" for u in keep})
    derived = f"{tmp_path}/part"
    run("utils/subset_data_dir.sh", "--utt-list", f"{tmp_path}/keep", "--feats-from", src, src, derived)
    assert sorted(read_all(f"{derived}/feats.scp")) == keep
    validate_data_dir(derived)

    run("utils/subset_data_dir.sh", base, src)  # what stage 1 does first: no features carried ...
    assert not os.path.exists(f"{src}/feats.scp") and os.path.exists(f"{src}/.backup/feats.scp")  # ... kept
    with pytest.raises(ValueError, match=f"{derived}: its features were cut from {src}/feats.scp, which is missing"):
        validate_data_dir(derived)
    run("steps/make_mfcc.sh", "--nj", "3", src, f"{tmp_path}/exp", f"{tmp_path}/mfcc")
    refused = run("utils/split_data.sh", derived, "2", check=False)
    assert refused.returncode == 1
    assert f"{derived}: its features were cut from {src}/feats.scp, which has been rewritten since; remake" \
        in refused.stderr
    run("utils/subset_data_dir.sh", "--utt-list", f"{tmp_path}/keep", "--feats-from", src, src, derived)
    fresh = read_all(f"{derived}/feats.scp")
    for utt, mat in read_all(f"{src}/feats.scp").items():
        if utt in keep:
            np.testing.assert_array_equal(fresh[utt], mat)


def test_one_writer_per_data_dir_and_a_killed_writers_lock_is_taken_over(tmp_path):
    data = demo_data_dir(tmp_path / "d", ["so0001"], 2)
    lock = f"{tmp_path}/.d.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with open(lock, "w") as f:
            f.write(f"{os.getpid()} 2026-01-02T03:04:05Z\n")
        busy = run("steps/make_mfcc.sh", "--nj", "1", data, f"{tmp_path}/exp", f"{tmp_path}/mfcc", check=False)
    assert busy.returncode == 1
    assert f"{data} is being written by pid {os.getpid()} (started 2026-01-02T03:04:05Z)" in busy.stderr
    assert not glob.glob(f"{tmp_path}/mfcc/*") and not os.path.exists(f"{tmp_path}/exp")  # nothing touched
    # The lock is free but its record says pid N never released it: a run killed with -9.
    done = run("steps/make_mfcc.sh", "--nj", "1", data, f"{tmp_path}/exp", f"{tmp_path}/mfcc")
    assert f"taking over the lock of {data} from pid {os.getpid()} (started 2026-01-02T03:04:05Z)" in done.stdout
    assert open(lock).read() == ""  # a finished run clears its record
    assert len(read_all(f"{data}/feats.scp")) == 2


@pytest.mark.parametrize("step", ["train_cnn", "train_ubm", "train_ivector_extractor", "score"])
def test_a_second_writer_of_an_output_fails_at_once(tmp_path, step):
    """Issue case: two training (or scoring) runs into one exp dir both 'succeeded', mixing their files."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("feats.scp", "vad.scp", "utt2spk", "final.ubm", "frame_opts"):
        (data / name).write_text("")
    out = tmp_path / "out"
    args = {"train_cnn": [data, data, out], "train_ubm": [data, out], "train_ivector_extractor": [data, data, out],
            "score": [data / "utt2spk", data / "feats.scp", out]}[step]
    with open(tmp_path / ".out.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write(f"{os.getpid()} 2026-01-02T03:04:05Z\n")
        held.flush()
        busy = run(f"steps/{step}.sh", *map(str, args), check=False)
    assert busy.returncode == 1
    assert f"{out} is being written by pid {os.getpid()} (started 2026-01-02T03:04:05Z)" in busy.stderr
    assert not glob.glob(f"{out}/*.*") and not glob.glob(f"{out}/log/*")
