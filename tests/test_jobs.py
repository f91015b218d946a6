"""Job launchers: JOB=1:N, one log per job, a failed job fails the step naming its log; per-command
resources; the option pass-through of steps that hand options to a Python command."""
import os
import subprocess

import pytest
from conftest import ROOT


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


def test_local_gpu_jobs_spread_over_the_visible_gpus(tmp_path):
    # Jobs of --gpu G take G of the visible GPUs each, round-robin by job number, and --num-threads N
    # sets their OMP_NUM_THREADS; without a GPU they run on the CPU, said in the log.
    show = "echo gpus=$CUDA_VISIBLE_DEVICES threads=$OMP_NUM_THREADS"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="3,5,7")
    out = run(["utils/run_local.sh", "--gpu", "1", "--num-threads", "4", "JOB=1:4", f"{tmp_path}/a.JOB.log", show],
              env=env)
    assert out.returncode == 0, out.stderr
    seen = [open(tmp_path / f"a.{job}.log").read().split("\n")[4] for job in (1, 2, 3, 4)]
    assert seen == ["gpus=3 threads=4", "gpus=5 threads=4", "gpus=7 threads=4", "gpus=3 threads=4"]
    out = run(["utils/run_local.sh", "--gpu", "2", "JOB=1:2", f"{tmp_path}/b.JOB.log", show], env=env)
    assert "gpus=3,5 " in open(tmp_path / "b.1.log").read() and "gpus=7,3 " in open(tmp_path / "b.2.log").read()
    out = run(["utils/run_local.sh", "--gpu", "4", f"{tmp_path}/c.log", show], env=env)
    assert out.returncode == 1 and "--gpu 4 asks for more GPUs than the 3 visible" in out.stderr
    out = run(["utils/run_local.sh", "--gpu", "1", f"{tmp_path}/d.log", show], env=dict(env, CUDA_VISIBLE_DEVICES=""))
    assert out.returncode == 0 and "# no GPU visible: on the CPU\ngpus= " in open(tmp_path / "d.log").read()


def test_local_launcher_refuses_several_nodes(tmp_path):
    # a multi-node training needs a cluster; on one machine it would run as one node's worth, silently
    out = run(["utils/run_local.sh", "--num-nodes", "2", f"{tmp_path}/n.log", "true"])
    assert out.returncode == 1 and "--num-nodes 2 needs a cluster (utils/run_slurm.sh)" in out.stderr
    assert not (tmp_path / "n.log").exists()


def test_parse_options_passes_unknown_options_on_when_asked(tmp_path):
    # A step that hands its other options to a Python command (as steps/train_cnn.sh does): its own
    # options are set, every other one (command line or --config line) is kept as --key=value, in order.
    conf = tmp_path / "c.conf"
    conf.write_text("--epochs=3  # a Python option\n--num-gpus=4\n")
    script = tmp_path / "step.sh"
    script.write_text('num_gpus=1\npassthrough_opts=()\n. utils/parse_options.sh\n'
                      'printf "%s|" "$num_gpus" "${passthrough_opts[@]}" "$@"\n')
    out = subprocess.run(["bash", str(script), "--network", "B", "--config", str(conf), "--width=0.5",
                          "--num-gpus", "2", "--noise-data", "a b", "data/x"], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout == "2|--network=B|--epochs=3|--width=0.5|--noise-data=a b|data/x|", out.stderr
    script.write_text("num_gpus=1\n. utils/parse_options.sh\n")  # without the array: unknown is an error
    out = subprocess.run(["bash", str(script), "--network", "B"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and "unknown option --network" in out.stderr


@pytest.fixture
def fake_slurm(tmp_path):
    """An sbatch that records its options and runs the array tasks (all but those listed in the file
    `lost`, as if killed before they could write their end) before returning, and a squeue for which the
    job has already left the queue."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sbatch").write_text("""#!/usr/bin/env bash
array=; script=
for a in "$@"; do case $a in --array=*) array=${a#--array=}; array=${array%%%*};; --*) ;; *) script=$a;; esac; done
echo "$@" > "$(dirname "$0")/sbatch.args"
for ((i=${array%-*}; i<=${array#*-}; i++)); do
  grep -qx $i "$(dirname "$0")/lost" 2>/dev/null || SLURM_ARRAY_TASK_ID=$i bash "$script" 2>/dev/null
done
echo 12345
""")
    (bindir / "squeue").write_text("#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1\n")
    for tool in ("sbatch", "squeue"):
        (bindir / tool).chmod(0o755)
    return bindir


def test_slurm_launcher_same_form_and_failure_report(tmp_path, fake_slurm):
    env = dict(os.environ, PATH=f"{fake_slurm}:{os.environ['PATH']}", PYSPK_SLURM_OPTS="--partition=cpu")
    out = run(["utils/run_slurm.sh", "JOB=1:3", f"{tmp_path}/s.JOB.log", "bash", "-c", "echo task JOB; [ JOB != 2 ]"],
              env=env)
    assert out.returncode == 1
    assert f"job 2 of 1..3 failed; see {tmp_path}/s.2.log (and {tmp_path}/q/slurm-12345_2.out)" in out.stderr
    assert "job 1 " not in out.stderr and "job 3 " not in out.stderr
    assert "task 3" in open(tmp_path / "s.3.log").read()
    assert "# OMP_NUM_THREADS=1" in open(tmp_path / "s.3.log").read()  # Slurm's default: one CPU
    args = open(fake_slurm / "sbatch.args").read().split()
    assert "--array=1-3" in args and "--partition=cpu" in args and "--job-name=s" in args
    assert not any(a.startswith(("--gres", "--cpus-per-task", "--mem", "--time")) for a in args)


def test_slurm_launcher_maps_per_command_resources(tmp_path, fake_slurm):
    env = dict(os.environ, PATH=f"{fake_slurm}:{os.environ['PATH']}", PYSPK_SLURM_OPTS="--account=lab",
               PYSPK_SLURM_GPU_OPTS="--partition=gpu")
    out = run(["utils/run_slurm.sh", "--gpu", "1", "--num-threads", "8", "--mem", "32G", "--time", "48:00:00",
               "--max-jobs-run", "2", "JOB=1:4", f"{tmp_path}/t.JOB.log", "sh", "-c", "echo $OMP_NUM_THREADS"], env=env)
    assert out.returncode == 0, out.stderr
    args = open(fake_slurm / "sbatch.args").read().split()
    for expected in ("--account=lab", "--gres=gpu:1", "--partition=gpu", "--cpus-per-task=8", "--mem=32G",
                     "--time=48:00:00", "--array=1-4%2"):
        assert expected in args, (expected, args)
    assert "\n8\n" in open(tmp_path / "t.4.log").read()


def test_slurm_task_lost_without_its_end_fails_even_with_an_old_log(tmp_path, fake_slurm):
    (tmp_path / "u.2.log").write_text("# earlier run\n# Ended (code 0) at yesterday\n")
    (fake_slurm / "lost").write_text("2\n")
    env = dict(os.environ, PATH=f"{fake_slurm}:{os.environ['PATH']}")
    out = run(["utils/run_slurm.sh", "JOB=1:2", f"{tmp_path}/u.JOB.log", "true"], env=env)
    assert out.returncode == 1
    assert f"job 2 of 1..2 failed; see {tmp_path}/u.2.log" in out.stderr and "job 1 " not in out.stderr


def _background_script(tmp_path, body):
    script = tmp_path / "recipe.sh"
    script.write_text(f"#!/usr/bin/env bash\nset -euo pipefail\ncd {ROOT}\n. utils/background_jobs.sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_background_jobs_at_most_n_at_once_and_failures_named(tmp_path):
    # Three jobs, two slots: the third starts only after one ended; a failed one makes bg_wait fail,
    # naming its command, after every job has ended.
    trace = tmp_path / "trace"
    job = f"echo start >> {trace}; sleep 0.3; echo end >> {trace}"
    script = _background_script(tmp_path, f"""
bg_run 2 bash -c '{job}'
bg_run 2 bash -c '{job}; exit 3'
bg_run 2 bash -c '{job}'
bg_wait || {{ echo "bg_wait failed"; exit 1; }}""")
    out = run([script])
    assert out.returncode == 1 and "bg_wait failed" in out.stdout
    assert f"failed: bash -c {job}; exit 3" in out.stderr
    events = open(trace).read().split()
    assert events[:3] == ["start", "start", "end"] and events.count("end") == 3


def test_background_jobs_stopped_with_the_script(tmp_path):
    # A recipe killed while its jobs run (Ctrl-C or kill) takes them down with their children: none
    # keeps writing after the script has gone.
    alive = tmp_path / "alive"
    script = _background_script(tmp_path, f"""
bg_run 2 bash -c 'while true; do date >> {alive}.1; sleep 0.1; done'
bg_run 2 bash -c 'bash -c "while true; do date >> {alive}.2; sleep 0.1; done"'
bg_wait""")
    proc = subprocess.Popen([script], cwd=ROOT)
    for i in (1, 2):
        while not os.path.exists(f"{alive}.{i}"):
            subprocess.run(["sleep", "0.05"])
    proc.terminate()
    assert proc.wait(timeout=10) == 143
    sizes = [os.path.getsize(f"{alive}.{i}") for i in (1, 2)]
    subprocess.run(["sleep", "0.5"])
    assert [os.path.getsize(f"{alive}.{i}") for i in (1, 2)] == sizes
