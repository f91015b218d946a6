"""The baseline steps end to end on a small real subset of the demo corpus (MFCC + VAD made here):
UBM training, GMM-UBM scoring, full-covariance refinement, T-matrix training, i-vector extraction,
PLDA scoring, SVM identification; EERs clearly better than chance; bad utterances and a mismatched UBM reported."""
import os
import subprocess

import numpy as np
import pytest

from conftest import DEMO_CORPUS, ROOT, demo_paths, utt_id
from pyspk.backend.gmm import DiagGmm, GmmError
from pyspk.bin import score_gmm_ubm
from pyspk.features.mfcc import compute_mfcc
from pyspk.features.vad import compute_vad
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter, load_scp
from pyspk.io.tables import read_table, write_map, write_table
from pyspk.io.trials import read_scores, read_trials
from pyspk.metrics import kaldi_eer

pytestmark = pytest.mark.slow   # the baseline steps on MFCC of 144 demo utterances
UTTS_PER_SPEAKER = 6


def make_data_dir(path, feats, vads, utts):
    os.makedirs(path)
    write_map(f"{path}/utt2spk", {u: u.split("-")[0] for u in utts})
    spk2utt = {}
    for u in sorted(utts):
        spk2utt.setdefault(u.split("-")[0], []).append(u)
    write_map(f"{path}/spk2utt", spk2utt)
    write_map(f"{path}/feats.scp", {u: feats[u] for u in utts})
    write_map(f"{path}/vad.scp", {u: vads[u] for u in utts})


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    """data/train_mfcc (12 dev speakers, one utterance with no voiced frames), data/test_mfcc
    (12 test speakers, with trials from veri_test.txt) and data/test_mute_mfcc (the same with one
    utterance that has no voiced frames)."""
    root = tmp_path_factory.mktemp("baseline")
    sets = {r[0]: r[3] for r in read_table(f"{DEMO_CORPUS}/meta.csv")[1:]}
    dev = [s for s in sorted(sets) if sets[s] == "dev"][:12]
    test = [s for s in sorted(sets) if sets[s] == "test"]
    paths = demo_paths(UTTS_PER_SPEAKER, dev + test)
    silent = utt_id(paths[0])
    with ArkScpWriter(f"{root}/mfcc.ark", f"{root}/feats.scp") as wf, \
            ArkScpWriter(f"{root}/vad.ark", f"{root}/vad.scp") as wv:
        for p in paths:
            mfcc = compute_mfcc(load_audio(f"{DEMO_CORPUS}/wav/{p}")[0])
            wf.write(utt_id(p), mfcc)
            wv.write(utt_id(p), compute_vad(mfcc) * (utt_id(p) != silent))
    feats, vads = load_scp_map(f"{root}/feats.scp"), load_scp_map(f"{root}/vad.scp")
    train = [utt_id(p) for p in paths if p.split("/")[0] in dev]
    test_utts = {utt_id(p) for p in paths if p.split("/")[0] in test}
    make_data_dir(f"{root}/data/train_mfcc", feats, vads, train)
    make_data_dir(f"{root}/data/test_mfcc", feats, vads, sorted(test_utts))
    trials = [[utt_id(a), utt_id(b), "target" if lab == "1" else "nontarget"]
              for lab, a, b in read_table(f"{DEMO_CORPUS}/veri_test.txt", 3, 3)
              if utt_id(a) in test_utts and utt_id(b) in test_utts]
    write_table(f"{root}/data/test_mfcc/trials", trials, sort=False)
    # the same test set with one utterance that has no voiced frames
    mute = sorted(test_utts)[0]
    with ArkScpWriter(f"{root}/mute.ark", f"{root}/mute.scp") as w:
        w.write(mute, np.zeros(len(load_scp(f"{root}/vad.scp")[mute]), np.float32))
    make_data_dir(f"{root}/data/test_mute_mfcc", feats, {**vads, **load_scp_map(f"{root}/mute.scp")},
                  sorted(test_utts))
    write_table(f"{root}/data/test_mute_mfcc/trials", trials, sort=False)
    return root, silent


def split_for_identification(vec_dir, out_root):
    """ivector.scp + utt2spk of <vec_dir> -> <out_root>/{train,val,test}: 4 / 1 / 1 per speaker."""
    by_speaker = {}
    for utt, entry in read_table(f"{vec_dir}/ivector.scp", 2, 2):
        by_speaker.setdefault(utt.split("-")[0], []).append((utt, entry))
    dirs = []
    for name, pick in (("train", range(0, 4)), ("val", [4]), ("test", [5])):
        rows = [row for rows in by_speaker.values() for i, row in enumerate(rows) if i in pick]
        os.makedirs(f"{out_root}/{name}")
        write_table(f"{out_root}/{name}/ivector.scp", rows)
        write_table(f"{out_root}/{name}/utt2spk", [[u, u.split("-")[0]] for u, _ in rows])
        dirs.append(f"{out_root}/{name}")
    return dirs


def load_scp_map(path):
    return {r[0]: r[1] for r in read_table(path, 2, 2)}


def step(*args):
    out = subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def eer_of(trials_path, scores_path):
    """Kaldi EER in percent."""
    trials = read_trials(trials_path)
    scores, _ = read_scores(scores_path, trials)
    return 100.0 * kaldi_eer(scores, trials.target)[0]


def test_gmm_ubm_and_ivector_baselines_end_to_end(subset, tmp_path):
    root, silent = subset
    data, exp = f"{root}/data", str(tmp_path)
    trials = f"{data}/test_mfcc/trials"
    with open(tmp_path / "ubm.conf", "w") as f:
        f.write("--num-gauss=16\n--num-frames=20000\n")
    with open(tmp_path / "ivector.conf", "w") as f:
        f.write("--ivector-dim=20\n")

    # GMM-UBM
    step("steps/train_ubm.sh", "--nj", "2", "--num-iters", "1", "--ubm-config", str(tmp_path / "ubm.conf"),
         f"{data}/train_mfcc", f"{exp}/ubm")
    logs = "".join(open(f"{exp}/ubm/log/{n}").read() for n in os.listdir(f"{exp}/ubm/log"))
    assert f"WARNING: skipping {silent}" in logs and "no voiced frames" in logs
    step("steps/score_gmm_ubm.sh", "--nj", "2", f"{exp}/ubm", f"{data}/test_mfcc", trials, f"{exp}/gmm_ubm/scores")
    assert open(f"{exp}/gmm_ubm/scores.trials").read() == open(trials).read()  # every trial scored
    gmm_eer = eer_of(trials, f"{exp}/gmm_ubm/scores")
    print(f"GMM-UBM EER {gmm_eer:.2f}%")
    assert gmm_eer < 25.0, gmm_eer  # chance is 50 %

    # a test utterance without voiced frames: its trials are reported and left out, the rest scored
    mute_trials = f"{data}/test_mute_mfcc/trials"
    out = step("steps/score_gmm_ubm.sh", "--nj", "2", f"{exp}/ubm", f"{data}/test_mute_mfcc", mute_trials,
               f"{exp}/gmm_ubm_mute/scores")
    assert "WARNING: scored" in out
    kept = read_table(f"{exp}/gmm_ubm_mute/scores.trials", 3, 3)
    mute = sorted(read_table(f"{data}/test_mute_mfcc/utt2spk", 2, 2))[0][0]
    assert 0 < len(kept) < len(read_table(mute_trials, 3, 3)) and all(mute not in row for row in kept)
    logs = "".join(open(f"{exp}/gmm_ubm_mute/log/score_gmm_ubm.{j}.log").read() for j in (1, 2))
    assert f"WARNING: skipping {mute}" in logs and "no voiced frames" in logs

    # i-vectors aligned by the full-covariance refinement of the UBM, + PLDA
    step("steps/train_full_ubm.sh", "--nj", "2", "--num-iters", "1", f"{exp}/ubm", f"{data}/train_mfcc",
         f"{exp}/full_ubm")
    step("steps/train_ivector_extractor.sh", "--nj", "2", "--num-iters", "2",
         "--ivector-config", str(tmp_path / "ivector.conf"), f"{exp}/full_ubm", f"{data}/train_mfcc",
         f"{exp}/extractor")
    objectives = [float(line.rsplit("objective per utterance ", 1)[1].split()[0])
                  for x in range(2) for line in open(f"{exp}/extractor/log/update.{x}.log") if "objective" in line]
    assert objectives == sorted(objectives), objectives
    for name in ("train", "test"):
        step("steps/extract_ivectors.sh", "--nj", "2", f"{exp}/extractor", f"{data}/{name}_mfcc",
             f"{exp}/ivectors_{name}")
    vectors = load_scp(f"{exp}/ivectors_test/ivector.scp")
    assert len(read_table(f"{exp}/ivectors_test/ivector.scp", 2, 2)) == 72
    assert next(iter(vectors.values())).shape == (20,)
    step("steps/score.sh", "--backend", "plda", "--lda-dim", "10", "--train-vectors",
         f"{exp}/ivectors_train/ivector.scp", "--train-data", f"{data}/train_mfcc", trials,
         f"{exp}/ivectors_test/ivector.scp", f"{exp}/ivector_plda/scores")
    ivec_eer = eer_of(trials, f"{exp}/ivector_plda/scores")
    print(f"i-vector PLDA EER {ivec_eer:.2f}%")
    assert ivec_eer < 35.0, ivec_eer  # 11 training speakers only

    # SVM identification among the 12 train speakers, recorded in RESULTS
    iden = split_for_identification(f"{exp}/ivectors_train", f"{exp}/iden")
    out = step("steps/identify_svm.sh", "--exp-root", exp, "--system", "ivector_svm", "--c-grid", "0.1,10", *iden)
    top1 = float(out.split("top-1 ")[-1].split("%")[0])
    print(f"i-vector SVM top-1 {top1:.2f}%")
    assert top1 > 100.0 / 12 * 4, out  # 12 speakers: chance is ~8 %
    assert "ivector_svm" in open(f"{exp}/RESULTS").read()


def test_a_ubm_of_the_wrong_dimension_is_a_clear_error(subset, tmp_path):
    root, _ = subset
    data = f"{root}/data/test_mfcc"
    DiagGmm(np.ones(2) / 2, np.zeros((2, 39)), np.ones((2, 39))).save(tmp_path / "ubm39")
    with pytest.raises(GmmError, match="model has dimension 39 but the features have dimension 13"):
        score_gmm_ubm.main(["--add-deltas", "false", str(tmp_path / "ubm39"), data, f"{data}/trials",
                            str(tmp_path / "scores")])
    assert not os.path.exists(tmp_path / "scores")


FAIL_AT = """#!/usr/bin/env bash
# utils/run_local.sh, but the jobs whose log names match $FAIL_LOG fail without running: a training
# killed at that point, deterministically.
case "$*" in *"$FAIL_LOG"*) echo "killed (test)" >&2; exit 1;; esac
exec "$PYSPK_ROOT/utils/run_local.sh" "$@"
"""


@pytest.mark.parametrize("kind", ["ubm", "extractor"])
def test_em_killed_during_an_iteration_resumes_with_stage_to_the_same_model(subset, tmp_path, kind):
    """Kill the EM during iteration 1 (its statistics jobs fail), rerun with --stage 1: the kept
    1.ubm / 1.ie is the start and the final model equals that of an uninterrupted run, byte for byte."""
    root, _ = subset
    data = f"{root}/data/train_mfcc"
    (tmp_path / "ubm.conf").write_text("--num-gauss=8\n--num-frames=5000\n--kmeans-iters=2\n")
    (tmp_path / "ivector.conf").write_text("--ivector-dim=5\n")
    launcher = tmp_path / "fail_at.sh"
    launcher.write_text(FAIL_AT)
    launcher.chmod(0o755)
    if kind == "ubm":
        def train(out, *opts):
            return ["steps/train_ubm.sh", "--nj", "2", "--num-iters", "3", "--ubm-config",
                    str(tmp_path / "ubm.conf"), *opts, data, str(out)]
        model = "ubm"
    else:
        step("steps/train_ubm.sh", "--nj", "2", "--num-iters", "1", "--ubm-config", str(tmp_path / "ubm.conf"),
             data, str(tmp_path / "ubm"))

        def train(out, *opts):
            return ["steps/train_ivector_extractor.sh", "--nj", "2", "--num-iters", "3", "--ivector-config",
                    str(tmp_path / "ivector.conf"), *opts, str(tmp_path / "ubm"), data, str(out)]
        model = "ie"
    step(*train(tmp_path / "whole"))
    killed = subprocess.run(train(tmp_path / "resumed", "--cmd", str(launcher)), cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "FAIL_LOG": "acc.1."})
    assert killed.returncode != 0 and not os.path.exists(tmp_path / "resumed" / f"final.{model}")
    kept = sorted(p for p in os.listdir(tmp_path / "resumed") if p.endswith(f".{model}"))
    assert kept == [f"0.{model}", f"1.{model}"], killed.stdout + killed.stderr
    out = step(*train(tmp_path / "resumed", "--stage", "1"))
    assert "iteration 0" not in out and "iteration 2" in out
    assert os.readlink(tmp_path / "resumed" / f"final.{model}") == f"3.{model}"
    for name in (f"1.{model}", f"final.{model}"):
        assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
