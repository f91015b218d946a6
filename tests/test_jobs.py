"""Job launchers: JOB=1:N, one log per job, a failed job fails the step naming its log."""
import os
import stat
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)


def test_local_jobs_substitute_job_and_log_each(tmp_path):
    out = run(["utils/run_local.sh", "JOB=1:3", f"{tmp_path}/log/x.JOB.log",
               "python3", "-c", "import sys; print('part', sys.argv[1])", "JOB"])
    assert out.returncode == 0, out.stderr
    for job in (1, 2, 3):
        log = open(tmp_path / "log" / f"x.{job}.log").read()
        assert f"part {job}\n" in log and "# Ended (code 0)" in log


def test_local_failed_job_fails_and_names_its_log(tmp_path):
    out = run(["utils/run_local.sh", "JOB=1:4", f"{tmp_path}/y.JOB.log",
               "bash", "-c", "echo doing JOB; [ JOB != 3 ] || { echo broken input >&2; exit 7; }"])
    assert out.returncode == 1
    assert f"job 3 of 1..4 failed; see {tmp_path}/y.3.log" in out.stderr
    assert "broken input" in out.stderr  # the log's tail is shown
    assert "# Ended (code 7)" in open(tmp_path / "y.3.log").read()
    assert "# Ended (code 0)" in open(tmp_path / "y.4.log").read()


def test_local_jobs_respect_max_jobs(tmp_path):
    # Each job appends its start and end; with one slot they never overlap.
    out = run(["utils/run_local.sh", "--max-jobs-run", "1", "JOB=1:3", f"{tmp_path}/z.JOB.log",
               "bash", "-c", f"echo start >> {tmp_path}/trace; sleep 0.2; echo end >> {tmp_path}/trace"])
    assert out.returncode == 0
    assert open(tmp_path / "trace").read().split() == ["start", "end"] * 3


@pytest.fixture
def fake_sbatch(tmp_path):
    """An sbatch that runs the array tasks locally, as Slurm would, and honours --wait."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    sbatch = bindir / "sbatch"
    sbatch.write_text("""#!/usr/bin/env bash
array=; script=
for a in "$@"; do case $a in --array=*) array=${a#--array=};; --*) ;; *) script=$a;; esac; done
echo "$@" > "$(dirname "$0")/sbatch.args"
rc=0
for ((i=${array%-*}; i<=${array#*-}; i++)); do SLURM_ARRAY_TASK_ID=$i bash "$script" || rc=1; done
echo 12345
exit $rc
""")
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_slurm_launcher_same_form_and_failure_report(tmp_path, fake_sbatch):
    env = dict(os.environ, PATH=f"{fake_sbatch}:{os.environ['PATH']}", PYSPK_SLURM_OPTS="--partition=gpu")
    out = run(["utils/run_slurm.sh", "JOB=1:3", f"{tmp_path}/s.JOB.log", "bash", "-c", "echo task JOB; [ JOB != 2 ]"],
              env=env)
    assert out.returncode == 1
    assert f"job 2 of 1..3 failed; see {tmp_path}/s.2.log" in out.stderr
    assert "task 3" in open(tmp_path / "s.3.log").read()
    args = open(fake_sbatch / "sbatch.args").read()
    assert "--wait" in args and "--array=1-3" in args and "--partition=gpu" in args
