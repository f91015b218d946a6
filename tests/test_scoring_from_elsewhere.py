"""The recipe used from another directory: steps find their own helpers, run.sh resolves relative
paths against the caller's directory, and a command's user error is one line, not a traceback."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT as REPO
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.trials import read_scores, read_trials

CORPUS = os.path.join(REPO, "egs", "demo", "corpus")


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True)


def test_a_step_runs_from_another_directory_with_relative_paths(tmp_path):
    (tmp_path / "trials").write_text("a b target\na c nontarget\n")
    with ArkScpWriter(tmp_path / "x.ark", tmp_path / "x.scp") as w:
        for i, key in enumerate("abc"):
            w.write(key, np.arange(4, dtype=np.float32) + i)
    out = run([os.path.join(REPO, "steps", "score.sh"), "trials", "x.scp", "scores"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    scores, _ = read_scores(tmp_path / "scores", read_trials(tmp_path / "trials"))
    assert scores.shape == (2,) and scores[0] > scores[1]


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="demo corpus not present")
def test_run_sh_resolves_relative_paths_against_the_callers_directory(tmp_path):
    os.symlink(CORPUS, tmp_path / "corpus")
    out = run([os.path.join(REPO, "run.sh"), "--corpus-root", "corpus", "--data=mydata", "--exp", "myexp",
               "--stop-stage", "0"], cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (tmp_path / "mydata" / "veri_test" / "utt2spk").is_file()
    assert not os.path.exists(os.path.join(REPO, "mydata"))


@pytest.mark.parametrize("command, args, message", [
    ("identify_cnn", ["missing.pt", "nodata"], "identify_cnn: error: missing.pt: no such checkpoint"),
    ("compute_metrics", ["missing_trials", "missing_scores"], "compute_metrics: error: missing_trials: no such trials file"),
    ("show_results", ["noexp"], "show_results: error: no results recorded in noexp/RESULTS.json"),
])
def test_user_errors_are_one_line(tmp_path, command, args, message):
    out = run([sys.executable, "-m", f"pyspk.bin.{command}", *args], cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [message]
