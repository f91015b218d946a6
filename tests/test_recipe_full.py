"""The whole recipe (./run.sh stages 0-9) at the smallest real sizes on the demo corpus, as SpeechBrain's
recipe tests do: every stage runs, every file a later stage or a user needs is there and well-formed."""
import json
import re
import subprocess

import kaldi_native_io
import numpy as np
import pytest

from conftest import ROOT
from pyspk.io.kaldi_table import load_scp
from pyspk.io.tables import read_table

pytestmark = pytest.mark.slow   # the whole recipe: minutes

def test_run_sh_end_to_end_with_tiny_models(tmp_path):
    cmd = ["./run.sh", "--data", f"{tmp_path}/data", "--exp", f"{tmp_path}/exp", "--featdir", f"{tmp_path}/feats",
           "--cnn-config", "tests/conf/cnn_tiny.conf", "--cnn-iden-config", "tests/conf/cnn_tiny.conf",
           "--ubm-config", "tests/conf/ubm_tiny.conf",
           "--ivector-config", "tests/conf/ivector_tiny.conf", "--plda-config", "tests/conf/plda_tiny.conf"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    for stage in range(10):
        assert f"=== stage {stage}:" in out.stdout
    exp = tmp_path / "exp"

    # Embeddings of every verification utterance, readable by a second Kaldi reader.
    xvectors = exp / "cnn_b_joint_veri" / "xvectors_veri_test"
    ours = load_scp(str(xvectors / "xvector.scp"))
    other = kaldi_native_io.RandomAccessFloatVectorReader(f"scp:{xvectors}/xvector.scp")
    assert len(ours) == 144
    for key in list(ours)[:5]:
        assert ours[key].shape == (32,)
        np.testing.assert_array_equal(np.asarray(other[key]), ours[key])
    assert len(load_scp(str(xvectors / "spk_xvector.scp"))) == 12

    # Score files in trial order for every verification system; the results table has every system.
    trials = read_table(tmp_path / "data" / "veri_test_spec" / "trials_vox1_O", 3, 3)
    for name in ("cnn_b_softmax_cosine", "cnn_b_joint_cosine", "gmm_ubm", "ivector_plda"):
        scores = read_table(exp / "scores" / f"{name}_vox1_O", 3, 3)
        assert [s[:2] for s in scores] == [t[:2] for t in trials], name
        assert np.isfinite([float(s[2]) for s in scores]).all()
    rows = json.load(open(exp / "RESULTS.json"))
    assert {"cnn_b_softmax", "cnn_b_joint", "cnn_b_joint_asnorm", "cnn_b_joint_plda", "gmm_ubm", "ivector_plda",
            "ivector_svm", "ivector_plda_svm"} <= {k.split(":")[0] for k in rows}
    # Stage 3's SVMs on each identification network's embeddings, after LDA + PLDA at the conf's dim.
    for loss in ("softmax", "joint"):
        plain, plda = rows[f"cnn_b_{loss}_svm"], rows[f"cnn_b_{loss}_plda_svm"]
        assert (plain["dim"], plda["dim"]) == (32, 8), (plain, plda)
        assert plain["utts_counted"] == plain["utts_listed"] == 88 and 0 <= plda["top1"] <= plda["top5"] <= 100
        assert "tests/conf/plda_tiny.conf" in plda["config"]
    table = open(exp / "RESULTS").read()
    assert "cnn_b_joint" in table and "ivector_svm" in table and table in out.stdout
    assert (exp / "det.png").stat().st_size > 10_000
    # Identification of both CNNs (softmax, joint) printed top-1 <= top-5, both percentages.
    pairs = re.findall(r"^top-1: ([0-9.]+)%\ntop-5: ([0-9.]+)%$", out.stdout, flags=re.M)
    assert len(pairs) == 2, out.stdout[-3000:]
    for top1, top5 in pairs:
        assert 0 <= float(top1) <= float(top5) <= 100, (top1, top5)
