"""./run.sh --stop-stage 1 on the shipped demo corpus, in a temp dir: data dirs and features, rerun safely."""
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT
from pyspk.io.datadir import validate_data_dir
from pyspk.io.kaldi_table import load_scp
from pyspk.io.tables import read_table

pytestmark = pytest.mark.slow   # stages 0-1 of the recipe

def run_recipe(tmp_path, *args):
    cmd = ["./run.sh", "--data", f"{tmp_path}/data", "--exp", f"{tmp_path}/exp", "--featdir", f"{tmp_path}/feats",
           *args]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_stages_0_and_1_on_the_demo_corpus(tmp_path):
    log = run_recipe(tmp_path, "--stop-stage", "1")
    assert "=== stage 0" in log and "=== stage 1" in log and "=== stage 2" not in log
    data = tmp_path / "data"
    sizes = {"all": 528, "iden_train": 396, "iden_val": 44, "iden_test": 88, "veri_train": 384, "veri_test": 144}
    for name, n in sizes.items():
        assert len(validate_data_dir(data / name).utts) == n, name
        for kind in ("spec", "mfcc"):
            if name != "all":
                d = validate_data_dir(data / f"{name}_{kind}", need_feats=True)
                assert len(d.utts) == n
    trials = read_table(data / "veri_test_spec" / "trials", 3, 3)
    assert len(trials) == 4458 and sum(r[2] == "target" for r in trials) == 792
    spec = load_scp(str(data / "all_spec" / "feats.scp"))
    mfcc = load_scp(str(data / "all_mfcc" / "feats.scp"))
    vad = load_scp(str(data / "all_mfcc" / "vad.scp"))
    utt = "so0001-s0-000010011"  # 2.58 s
    assert spec[utt].shape == (259, 161) and spec[utt].dtype == np.float32
    assert mfcc[utt].shape[1] == 13 and vad[utt].shape == (mfcc[utt].shape[0],)
    assert 0.3 < vad[utt].mean() < 1.0
    assert len(validate_data_dir(data / "veri_val_spec").speakers) == 32
    # The verification networks' training data: veri_train and its 0.9x / 1.1x copies as new speakers,
    # each copy's spectrogram 1/factor times as long.
    sp = validate_data_dir(data / "veri_train_sp_spec", need_feats=True)
    assert len(sp.utts) == 3 * 384 and len(sp.speakers) == 3 * 32
    sp_spec = load_scp(str(data / "veri_train_sp_spec" / "feats.scp"))
    train_utt = validate_data_dir(data / "veri_train").utts[0]
    np.testing.assert_array_equal(sp_spec[train_utt], spec[train_utt])
    for factor in (0.9, 1.1):
        frames = sp_spec[f"sp{factor:g}-{train_utt}"].shape[0]
        assert abs(frames - spec[train_utt].shape[0] / factor) <= 2, (factor, frames)

    # Rerunning stage 1 alone overwrites cleanly and gives the same features.
    before = open(data / "all_spec" / "feats.scp").read()
    run_recipe(tmp_path, "--stage", "1", "--stop-stage", "1")
    assert open(data / "all_spec" / "feats.scp").read() == before
    np.testing.assert_array_equal(load_scp(str(data / "all_spec" / "feats.scp"))[utt], spec[utt])
    leftovers = [f for f in os.listdir(tmp_path / "feats" / "spec") if "tmp" in f]
    assert leftovers == []
