"""local/learning_curve.sh's speaker sets and local/plot_learning_curve.py's table and figure, for both
tasks, from RESULTS rows written by pyspk.results (as the recipe's steps write them)."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from pyspk import results


def make_curve_dir(root, n, rows):
    """An experiment dir as local/learning_curve.sh leaves it: ``speakers`` (n lines) and RESULTS rows."""
    d = root / f"curve_{n}"
    d.mkdir()
    (d / "speakers").write_text("".join(f"spk{i:03d}\n" for i in range(n)))
    for system, trial_list, fields in rows:
        results.record(str(d), system, trial_list, **fields)
    return str(d)


def plot(*args):
    out = subprocess.run([sys.executable, "local/plot_learning_curve.py", *args], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_identification_curve_reports_top1_and_utterances_counted(tmp_path):
    dirs = [make_curve_dir(tmp_path, n, [
        ("cnn_b_softmax", "", dict(top1=top1, top5=99.0, utts_counted=2 * n, utts_listed=2 * n)),
        ("ivector_svm", "", dict(top1=top1 + 5, top5=99.0, utts_counted=2 * n - 1, utts_listed=2 * n)),
        ("cnn_b_softmax", "vox1_O", dict(eer=12.5, trials_counted=100, trials_listed=100)),  # not top-1
    ]) for n, top1 in ((25, 80.0), (50, 70.25))]
    png = tmp_path / "iden.png"
    lines = plot("--task", "identification", "--png", str(png), *dirs)
    assert lines[0].split()[:5] == ["system", "25", "spk", "50", "spk"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert rows["cnn_b_softmax"].split() == ["cnn_b_softmax", "80.00%", "70.25%", "50/50,", "100/100"]
    assert "49/50, 99/100" in rows["ivector_svm"]
    assert rows["ivector_plda_svm"].split()[1:3] == ["-", "-"]   # not run: no figure, none invented
    assert png.stat().st_size > 0


def test_verification_curve_keeps_eer_and_trials_counted(tmp_path):
    dirs = [make_curve_dir(tmp_path, n, [
        ("ivector_plda", "vox1_O", dict(eer=eer, trials_counted=90, trials_listed=100)),
        ("ivector_svm", "", dict(top1=50.0, utts_counted=10, utts_listed=10)),   # not an EER
    ]) for n, eer in ((25, 15.5), (100, 9.75))]
    lines = plot("--png", str(tmp_path / "veri.png"), *dirs)
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert rows["ivector_plda"].split()[1:3] == ["15.50%", "9.75%"]
    assert rows["ivector_plda"].rstrip().endswith("90/100, 90/100")
    assert "ivector_svm" not in rows


def nested_sets(tmp_path, n_speakers, sizes, split):
    """The speaker set of every size, from learning_curve.sh's own selection function."""
    script = open(os.path.join(ROOT, "local/learning_curve.sh")).read()
    function = script[script.index("nested_speakers() {"):]
    function = function[:function.index("\n}\n") + 3]
    data = tmp_path / "data" / f"{split}_spec"
    data.mkdir(parents=True)
    (data / "spk2utt").write_text("".join(f"spk{i:03d} spk{i:03d}-u1\n" for i in range(n_speakers)))
    sets = {}
    for n in sizes.split():
        out = subprocess.run(["bash", "-c", f"{function}\nnested_speakers {n}"], capture_output=True, text=True,
                             env={**os.environ, "data": str(tmp_path / "data"), "split": split, "sizes": sizes})
        assert out.returncode == 0, out.stderr
        sets[int(n)] = out.stdout.split()
    return sets


@pytest.mark.parametrize("n_speakers, sizes", [(125, "25 50 125"), (100, "25 50 100"), (44, "10 20 30")])
def test_speaker_sets_are_nested_and_of_the_asked_size(tmp_path, n_speakers, sizes):
    sets = nested_sets(tmp_path, n_speakers, sizes, "iden_train")
    ordered = sorted(sets)
    for n in ordered:
        assert len(sets[n]) == len(set(sets[n])) == n
    for small, large in zip(ordered, ordered[1:]):
        assert set(sets[small]) <= set(sets[large]), (small, large)
