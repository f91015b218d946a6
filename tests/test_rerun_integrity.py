"""Fault injection: every multi-job step that writes archives (spectrograms, MFCC, VAD, embeddings,
i-vectors) is killed (SIGKILL of the whole step) or made to fail at several points, then rerun with
another --nj. After every fault, each scp of the run either reads back what a clean run wrote or
refuses with a clear error (missing scp, key check, derived-dir stamp); after the rerun every scp
reads back equal to the clean run's. A read that returns a different matrix is a silent wrong result.

Kill points are deterministic (tests/fault_inject): the step dies right after a named file is renamed
into place (an ark, a job's scp, utt2num_frames, a published scp), after every job but before the
combine, or a job fails instead of writing its file.
"""
import os
import subprocess

import numpy as np
import pytest

from conftest import ROOT
from pyspk.io.datadir import DataDir
from pyspk.io.kaldi_table import KaldiTableError, load_scp
from pyspk.io.tables import write_map
from test_features_steps import demo_data_dir

FAULTS = os.path.join(ROOT, "tests/fault_inject")
KILL_AFTER_JOBS = os.path.join(FAULTS, "kill_after_jobs.sh")


def run(*args, fault=None):
    """Run a step in its own process group; ``fault``: ("kill"|"fail", file glob) or ("jobs", None)."""
    env = dict(os.environ)
    args = [str(a) for a in args]
    if fault is not None:
        kind, pattern = fault
        env["PYTHONPATH"] = FAULTS
        if kind == "kill":
            env["PYSPK_KILL_AFTER"] = pattern
        elif kind == "fail":
            env["PYSPK_FAIL_AT"] = pattern
        else:
            args[1:1] = ["--cmd", KILL_AFTER_JOBS]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, start_new_session=True)
    if fault is None:
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    else:
        assert out.returncode != 0, f"fault {fault} did not stop {args[0]}"
    return out


def read_scp(path):
    return {k: np.array(v) for k, v in load_scp(path).items()}


class Recipe:
    """A tiny run (2 speakers x 3 utterances) whose outputs are audited after every fault."""

    def __init__(self, root):
        self.root = root
        self.base, self.spec, self.mfcc = f"{root}/data/all", f"{root}/data/all_spec", f"{root}/data/all_mfcc"
        self.valid = f"{root}/data/valid_spec"  # derived from all_spec (--feats-from)
        self.cnn, self.ubm, self.ie = f"{root}/exp/cnn", f"{root}/exp/ubm", f"{root}/exp/ie"
        self.xvectors, self.ivectors = f"{root}/exp/xvectors", f"{root}/exp/ivectors"
        self.scps = [f"{self.spec}/feats.scp", f"{self.mfcc}/feats.scp", f"{self.mfcc}/vad.scp",
                     f"{self.valid}/feats.scp", f"{self.xvectors}/xvector.scp", f"{self.xvectors}/spk_xvector.scp",
                     f"{self.ivectors}/ivector.scp"]

    def spectrograms(self, nj, fault=None):
        return run("steps/make_spectrogram.sh", "--nj", nj, self.spec, f"{self.root}/exp/make_spec",
                   f"{self.root}/feats/spec", fault=fault)

    def mfccs(self, nj, fault=None):
        return run("steps/make_mfcc.sh", "--nj", nj, self.mfcc, f"{self.root}/exp/make_mfcc",
                   f"{self.root}/feats/mfcc", fault=fault)

    def vad(self, nj, fault=None):
        return run("steps/compute_vad_decision.sh", "--nj", nj, self.mfcc, f"{self.root}/exp/make_vad",
                   f"{self.root}/feats/vad", fault=fault)

    def derive_valid(self):
        run("utils/subset_data_dir.sh", "--utt-list", f"{self.root}/valid_list", "--feats-from", self.spec,
            self.base, self.valid)

    def embeddings(self, nj, fault=None):
        return run("steps/extract_embeddings.sh", "--nj", nj, self.cnn, self.spec, self.xvectors, fault=fault)

    def ivector_extraction(self, nj, fault=None):
        return run("steps/extract_ivectors.sh", "--nj", nj, self.ie, self.mfcc, self.ivectors, fault=fault)

    def build(self):
        demo_data_dir(self.base, ["so0001", "so0005"], 3)
        for d in (self.spec, self.mfcc):
            run("utils/subset_data_dir.sh", self.base, d)
        write_map(f"{self.root}/valid_list", {u: "" for u in DataDir(self.base).utts[::3]})
        self.spectrograms(2)
        self.mfccs(2)
        self.vad(2)
        self.derive_valid()
        run("steps/train_cnn.sh", "--config", "tests/conf/cnn_tiny.conf", "--epochs", "1", "--batch-size", "4", self.spec, self.valid,
            self.cnn)
        run("steps/train_ubm.sh", "--nj", 1, "--num-iters", 0, "--ubm-config", "tests/conf/ubm_tiny.conf",
            self.mfcc, self.ubm)
        run("steps/train_ivector_extractor.sh", "--nj", 1, "--num-iters", 0, "--ivector-config",
            "tests/conf/ivector_tiny.conf", self.ubm, self.mfcc, self.ie)
        self.embeddings(2)
        self.ivector_extraction(2)
        self.clean = {scp: read_scp(scp) for scp in self.scps}

    def audit(self):
        """-> (entries equal to the clean run's, entries refused with a clear error, silent wrong results)."""
        equal = refused = wrong = 0
        for scp in self.scps:
            want = self.clean[scp]
            if not os.path.exists(scp):
                refused += len(want)
                continue
            try:
                DataDir(os.path.dirname(scp)) if "/data/" in scp else None  # a derived dir's stamp
                table = load_scp(scp)
            except ValueError:
                refused += len(want)
                continue
            wrong += len(set(table) ^ set(want))
            for key in set(table) & set(want):
                try:
                    got = table[key]
                except KaldiTableError:
                    refused += 1
                    continue
                if got.shape == want[key].shape and np.allclose(got, want[key], rtol=1e-4, atol=1e-5):
                    equal += 1
                else:
                    wrong += 1
        return equal, refused, wrong


# (step, --nj of the faulty run, fault). The clean run used --nj 2; after the faults the step is rerun
# clean with --nj 3.
KILL_POINTS = {
    "spectrograms": [(1, ("kill", "*/raw_spec_*.1.ark")), (2, ("fail", "*/raw_spec_*.2.ark")),
                     (1, ("jobs", None)), (2, ("kill", "*/all_spec/utt2num_frames"))],
    "mfccs": [(1, ("kill", "*/raw_mfcc_*.1.scp"))],
    "vad": [(1, ("kill", "*/vad_*.1.ark")), (2, ("fail", "*/vad_*.2.ark"))],
    "embeddings": [(2, ("kill", "*/xvector.2.ark")), (1, ("jobs", None)), (1, ("kill", "*/spk_xvector.ark"))],
    "ivector_extraction": [(2, ("fail", "*/ivector.1.ark")), (1, ("jobs", None))],
}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    recipe = Recipe(str(tmp_path_factory.mktemp("rerun")))
    recipe.build()
    return recipe


@pytest.mark.slow
@pytest.mark.parametrize("step", list(KILL_POINTS))
def test_killed_or_failed_step_then_rerun_with_another_nj(recipe, step):
    total = len(recipe.clean[recipe.scps[0]])
    tried = wrong_seen = 0
    for nj, fault in KILL_POINTS[step]:
        getattr(recipe, step)(nj, fault=fault)
        tried += 1
        equal, refused, wrong = recipe.audit()
        wrong_seen += wrong
        assert wrong == 0, f"{step} {fault}: {wrong} silent wrong entries"
        assert equal + refused > 0
    out = getattr(recipe, step)(3)
    if step == "mfccs":  # vad.scp derives from feats.scp: the MFCC step sets it aside
        recipe.vad(3)
    if step == "spectrograms":  # derived dirs refuse until remade, then read the clean features
        equal, refused, wrong = recipe.audit()
        assert wrong == 0 and refused == len(recipe.clean[f"{recipe.valid}/feats.scp"])
        recipe.derive_valid()
    equal, refused, wrong = recipe.audit()
    assert (refused, wrong) == (0, 0), out.stdout[-2000:]
    assert equal == sum(len(t) for t in recipe.clean.values())
    print(f"{step}: {tried} kill points tried, {wrong_seen} silent wrong results ({total} utterances)")
