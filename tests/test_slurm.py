"""Jobs through a real Slurm cluster (the one-node cluster of .ci/start_slurm.sh): the recipe's stages 0-1
under PYSPK_CMD=slurm, a tiny two-process training through utils/run_slurm.sh with per-command
resources (checked against what Slurm granted), a failed array task failing the step, and Ctrl-C
cancelling the array. Skipped where sbatch is missing or no cluster answers."""
import os
import re
import shutil
import signal
import subprocess
import time

import kaldi_native_io
import pytest
from conftest import DEMO_CORPUS as CORPUS, DEMO_WAV, ROOT

# Two speakers of the verification trials and two others: every split and some trials are non-empty.
SPEAKERS = ("so3021", "so6010", "so0001", "so0005")


def _cluster_state():
    if shutil.which("sbatch") is None:
        return "sbatch is not on PATH"
    out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    states = out.stdout.split()
    if out.returncode != 0 or not any(s.rstrip("*~#") in ("idle", "mix", "alloc") for s in states):
        return f"no Slurm node up ({(out.stderr or ' '.join(states)).strip()})"
    return None


pytestmark = pytest.mark.skipif(_cluster_state() is not None,
                                reason=f"no Slurm cluster: {_cluster_state()} (.ci/start_slurm.sh starts one)")


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, **(env or {})), **kw)


def slurm_job(log):
    """The Slurm job id of the task that wrote ``log`` (its header names it)."""
    match = re.search(r"^# Slurm job (\d+)_\d+ on ", open(log).read(), re.M)
    assert match, f"{log} was not written by a Slurm task"
    return match.group(1)


def job_records(job_id):
    """``scontrol show job -d`` of an array job: one dict of key=value fields per task."""
    out = run(["scontrol", "-o", "-d", "show", "job", job_id])
    assert out.returncode == 0, out.stderr
    return [dict(f.split("=", 1) for f in line.split() if "=" in f) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    """Stages 0-1 of run.sh with PYSPK_CMD=slurm on a four-speaker copy of the demo corpus."""
    top = tmp_path_factory.mktemp("slurm_recipe")
    corpus = top / "corpus"
    (corpus / "wav").mkdir(parents=True)
    for spk in SPEAKERS:
        (corpus / "wav" / spk).symlink_to(os.path.join(DEMO_WAV, spk))
    keep = lambda path: all(p.split("/")[0] in SPEAKERS for p in path.split()[1:])  # noqa: E731
    for name in ("iden_split.txt", "veri_test.txt"):
        lines = [line for line in open(os.path.join(CORPUS, name)) if keep(line)]
        (corpus / name).write_text("".join(lines))
    out = run(["./run.sh", "--stage", "0", "--stop-stage", "1", "--corpus-root", str(corpus), "--data",
               str(top / "data"), "--exp", str(top / "exp"), "--featdir", str(top / "feats")],
              env={"PYSPK_CMD": "slurm"})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return top


@pytest.mark.slow
def test_stages_0_1_run_as_slurm_jobs(recipe):
    spec = kaldi_native_io.SequentialFloatMatrixReader(f"scp:{recipe / 'data' / 'all_spec' / 'feats.scp'}")
    shapes = {utt: m.shape for utt, m in spec}
    assert len(shapes) == 4 * 12 and all(rows > 100 for rows, _ in shapes.values())
    assert len({cols for _, cols in shapes.values()}) == 1
    assert (recipe / "data" / "veri_test_mfcc" / "trials").stat().st_size > 0
    # Each feature step ran as one two-task array per data dir: all utterances, and (spectrograms only)
    # the speed-perturbed copies of the verification training set.
    expected = {"make_spectrogram": ["make_spec_all_spec", "make_spec_veri_train_sp_spec"],
                "make_mfcc": ["make_mfcc_all_mfcc"], "make_vad": ["vad_all_mfcc"]}
    for step, names in expected.items():
        logs = sorted((recipe / "exp" / step / "log").glob("*.[12].log"))
        assert [log.name for log in logs] == [f"{name}.{job}.log" for name in names for job in (1, 2)], step
        for log in logs:
            assert "# Ended (code 0)" in log.read_text()
            records = job_records(slurm_job(log))
            assert {r["JobState"] for r in records} == {"COMPLETED"} and len(records) == 2


@pytest.mark.slow
def test_tiny_training_gets_its_cpus_memory_gpus_and_time(recipe):
    gres = run(["sinfo", "-h", "-o", "%G"]).stdout
    if not re.search(r"gpu:([2-9]|\d\d)", gres):
        pytest.skip(f"the cluster has fewer than two GPUs ({gres.strip()})")
    data, exp = recipe / "data", recipe / "exp" / "cnn"
    out = run(["steps/train_cnn.sh", "--cmd", "utils/run_slurm.sh --num-threads 2 --mem 3G --time 0:20:00",
               "--num-gpus", "2", "--config", "tests/conf/cnn_tiny.conf", "--batch-size", "8",
               str(data / "iden_train_spec"), str(data / "iden_val_spec"), str(exp)])
    log = (exp / "log" / "train.log").read_text()
    assert out.returncode == 0, out.stderr[-2000:] + log[-3000:]
    assert (exp / "final.pt").is_file()
    # one training of two processes (srun + torchrun rendezvous), not two trainings
    assert "rendezvous at " in log and "2 process(es)" in log and log.count("epoch 1/1: ") == 1
    assert "OMP_NUM_THREADS=2" in log
    (task,) = job_records(slurm_job(exp / "log" / "train.log"))
    assert task["NumCPUs"] == "2" and task["CPUs/Task"] == "2"
    assert "mem=3G" in task["TRES"] and task["TimeLimit"] == "00:20:00"
    assert task["TresPerNode"] == "gres:gpu:2"


def test_failed_array_task_fails_the_step_naming_its_log(tmp_path):
    out = run(["utils/run_slurm.sh", "JOB=1:3", f"{tmp_path}/f.JOB.log", "bash", "-c",
               "echo task JOB; [ JOB != 2 ] || { echo bad input >&2; exit 3; }"])
    assert out.returncode == 1
    assert f"job 2 of 1..3 failed; see {tmp_path}/f.2.log" in out.stderr and "bad input" in out.stderr
    assert "job 1 " not in out.stderr and "job 3 " not in out.stderr
    states = {r["ArrayTaskId"]: r["JobState"] for r in job_records(slurm_job(tmp_path / "f.1.log"))}
    assert states == {"1": "COMPLETED", "2": "FAILED", "3": "COMPLETED"}


def wait_until(done):
    """Poll ``done()`` every 0.1 s until it is true, for 2 min at most (a loaded CI machine is slow);
    the caller's assertions then say what did not happen."""
    for _ in range(1200):
        if done():
            return
        time.sleep(0.1)


def wait_for_task(log):
    """Wait until the task writing ``log`` runs (its header names its job) -> the job id."""
    wait_until(lambda: log.exists() and "# Slurm job" in log.read_text())
    return slurm_job(log)


def final_states(job_id):
    """The JobState of each task of ``job_id``, once none is left in the queue."""
    wait_until(lambda: not run(["squeue", "-h", "-j", job_id]).stdout.strip())
    return [r["JobState"] for r in job_records(job_id)]


def test_task_killed_by_slurm_fails_the_step(tmp_path):
    # A task that Slurm ends (here scancel; a time or memory limit alike) never writes its end line.
    proc = subprocess.Popen(["utils/run_slurm.sh", "JOB=1:2", f"{tmp_path}/k.JOB.log", "[ JOB = 1 ] || sleep 300"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    job_id = wait_for_task(tmp_path / "k.2.log")
    assert run(["scancel", f"{job_id}_2"]).returncode == 0
    stderr = proc.communicate(timeout=300)[1]
    assert proc.returncode == 1
    assert f"job 2 of 1..2 failed; see {tmp_path}/k.2.log (and {tmp_path}/q/slurm-{job_id}_2.out)" in stderr
    assert "job 1 " not in stderr and "CANCELLED" in stderr  # Slurm's own message, from the .out file


def test_interrupt_cancels_the_submitted_array(tmp_path):
    proc = subprocess.Popen(["utils/run_slurm.sh", "JOB=1:3", f"{tmp_path}/i.JOB.log", "sleep 300"], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    job_id = wait_for_task(tmp_path / "i.1.log")
    proc.send_signal(signal.SIGINT)
    stderr = proc.communicate(timeout=300)[1]
    assert proc.returncode == 130 and f"cancelled Slurm job {job_id}" in stderr
    assert final_states(job_id) == ["CANCELLED"] * 3


def test_interrupt_while_sbatch_returns_still_cancels_the_array(tmp_path):
    # Ctrl-C sent to the script while sbatch, having submitted, has not yet returned (a loaded machine):
    # an sbatch that says when it has submitted, then takes 3 s to return.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sbatch").write_text(
        f"#!/usr/bin/env bash\nout=$({shutil.which('sbatch')} \"$@\") || exit\n"
        f"touch {tmp_path}/submitted; sleep 3; echo \"$out\"\n")
    (tmp_path / "bin" / "sbatch").chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}/bin:{os.environ['PATH']}")
    proc = subprocess.Popen(["utils/run_slurm.sh", "JOB=1:2", f"{tmp_path}/s.JOB.log", "sleep 300"], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, text=True)
    wait_until((tmp_path / "submitted").exists)
    proc.send_signal(signal.SIGINT)
    stderr = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, stderr
    job_id = re.search(r"cancelled Slurm job (\d+)", stderr).group(1)
    assert final_states(job_id) == ["CANCELLED"] * 2
