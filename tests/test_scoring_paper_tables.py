"""The paper's Tables 4 and 5 beside ours (steps/show_results.sh --paper true), and that every row of
them is a system run.sh builds: by default, or with the option the table names."""
import os
import re
import subprocess

import pytest

from pyspk import results
from pyspk.bin.show_results import main as show_results
from pyspk.paper_tables import NOT_RUN, TABLE4, TABLE5, ndims_system

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_SH = open(os.path.join(REPO, "run.sh"), encoding="utf-8").read()


def fill(exp):
    """Rows as a default demo run records them (identification rows have no trial list)."""
    where = dict(corpus="egs/demo/corpus")
    results.record(exp, "ivector_svm", top1=37.5, top5=61.36, dim=100, utts_counted=88, utts_listed=88,
                   config="conf/ivector.conf conf/plda.conf", **where)
    results.record(exp, "cnn_b_joint", top1=60.23, top5=85.2, utts_counted=86, utts_listed=88,
                   config="conf/cnn_demo.conf", **where)
    results.record(exp, "cnn_b_joint", trial_list="vox1_O", eer=12.5, trials_counted=37611,
                   trials_listed=37720, config="conf/cnn_demo.conf", **where)
    results.record(exp, "gmm_ubm", trial_list="vox1_O", eer=20.1, trials_counted=140, trials_listed=144,
                   config="conf/ubm.conf", **where)
    results.record(exp, "cnn_b_joint_nd32", trial_list="vox1_O", eer=15.25, trials_counted=144,
                   trials_listed=144)


def columns(line):
    return re.split(r"\s{2,}", line.strip())


def test_paper_tables_layout(tmp_path, capsys):
    fill(tmp_path)
    show_results(["--paper", "true", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    blank = out.index("")
    table4, table5 = out[:blank], out[blank + 1:]

    assert table4[0] == "Table 4: speaker identification, VoxCeleb1 (1,251 speakers), accuracy %"
    assert columns(table4[1]) == ["system", "paper top-1", "paper top-5", "ours top-1", "ours top-5", "utts",
                                  "recipe system", "corpus", "config"]
    assert [columns(line)[0] for line in table4[2:]] == [
        "I-vectors + SVM", "I-vectors + PLDA + SVM", "Network A", "Network B", "Network A Joint", "Network B Joint"]
    assert columns(table4[2]) == ["I-vectors + SVM", "49.0", "56.6", "37.50", "61.36", "88/88", "ivector_svm",
                                  "egs/demo/corpus", "conf/ivector.conf conf/plda.conf"]
    assert columns(table4[3]) == ["I-vectors + PLDA + SVM", "60.8", "75.6", f"{NOT_RUN} (added by a default ./run.sh)"]
    assert columns(table4[4]) == ["Network A", "83.5", "93.8", f"{NOT_RUN} (added by ./run.sh --network-a true)"]
    assert columns(table4[7]) == ["Network B Joint", "89.5", "97.0", "60.23", "85.20", "86/88", "cnn_b_joint",
                                  "egs/demo/corpus", "conf/cnn_demo.conf"]
    # Columns line up: every figure ends where its title ends.
    for title in ("paper top-1", "ours top-5", "utts"):
        end = table4[1].index(title) + len(title)
        assert table4[2][end - 1] != " " and table4[2][end] == " ", title

    assert table5[0] == "Table 5: speaker verification, VoxCeleb1 test (40 speakers), EER %"
    assert columns(table5[1]) == ["system", "paper EER", "ours EER", "trials", "trials-list", "recipe system",
                                  "corpus", "config"]
    assert columns(table5[2]) == ["GMM-UBM", "15.0", "20.10", "140/144", "vox1_O", "gmm_ubm", "egs/demo/corpus",
                                  "conf/ubm.conf"]
    assert columns(table5[3]) == ["I-vectors + PLDA", "8.8", f"{NOT_RUN} (added by a default ./run.sh)"]
    assert columns(table5[4]) == ["Network B Joint (ndims 128)", "4.9", "12.50", "37611/37720", "vox1_O",
                                  "cnn_b_joint", "egs/demo/corpus", "conf/cnn_demo.conf"]
    assert columns(table5[5]) == ["Network B Joint (ndims 64)", "-",
                                  f'{NOT_RUN} (added by ./run.sh --verification-ndims "64 128 256")']
    # A bottleneck size the results hold beyond the table's: its own row, without a paper figure.
    assert columns(table5[7]) == ["Network B Joint (ndims 32)", "-", "15.25", "144/144", "vox1_O",
                                  "cnn_b_joint_nd32", "-", "-"]


def run_sh_systems(**options):
    """The CNN system names run.sh builds with ``options`` (e.g. network_a="true"): its own naming
    code (from ``cnn_losses=`` to the verification list) run in bash."""
    block = RUN_SH[RUN_SH.index("\ncnn_losses="):RUN_SH.index("\nrecorded=")]
    settings = "".join(f"{k}='{v}'\n" for k, v in {"network_a": "false", "verification_ndims": "",
                                                     **options}.items())
    script = settings + block + '''
for net in $networks; do for loss in $cnn_losses; do echo "iden cnn_${net}_${loss%:*}"; done; done
for s in "${veri_systems[@]}"; do echo "veri ${s%%:*}"; done
'''
    out = subprocess.run(["bash", "-euc", script], capture_output=True, text=True, check=True).stdout
    return {tuple(line.split()) for line in out.splitlines()}


def test_every_paper_row_is_a_system_run_sh_builds():
    # The names stage 3 and stages 4-6 use are the ones the block builds.
    assert "name=cnn_${net}_${loss%:*}" in RUN_SH and "--system $name " in RUN_SH
    assert RUN_SH.count("${veri_systems[@]}") == 3
    default = run_sh_systems()
    assert default == {("iden", "cnn_b_softmax"), ("iden", "cnn_b_joint"), ("veri", "cnn_b_softmax"),
                       ("veri", "cnn_b_joint")}
    for table, kind in ((TABLE4, "iden"), (TABLE5, "veri")):
        for row in table.rows:
            if not row.system.startswith("cnn_"):
                # The baselines are named literally in run.sh (stages 7 and 8), always built; the
                # identification SVMs as identify_with_svms' system prefix (<prefix>_svm, <prefix>_plda_svm).
                prefix = re.sub(r"(_plda)?_svm$", "", row.system)
                assert re.search(rf"--system {row.system}\b|\b{row.system}:|^  identify_with_svms \S+ \S+ {prefix} ",
                                 RUN_SH, flags=re.M), row
                assert row.option == ""
                continue
            if row.option == "":
                assert (kind, row.system) in default, row
                continue
            flag, value = re.fullmatch(r'--([a-z-]+) "?([^"]*)"?', row.option).groups()
            assert f"[--{flag} " in RUN_SH  # in run.sh's usage
            assert (kind, row.system) not in default, f"{row.system} is built by default: no option needed"
            assert (kind, row.system) in run_sh_systems(**{flag.replace("-", "_"): value}), row


@pytest.mark.parametrize("ndims, name", [(128, "cnn_b_joint"), (64, "cnn_b_joint_nd64"), (256, "cnn_b_joint_nd256")])
def test_ndims_names_agree_with_run_sh(ndims, name):
    assert ndims_system(ndims) == name
    assert ("veri", name) in run_sh_systems(verification_ndims=str(ndims))


def test_paper_tables_are_written_for_the_docs(tmp_path, capsys):
    """stage 9 leaves exp/PAPER_TABLES; update_docs_results pastes it between its own markers only."""
    from pyspk.bin import update_docs_results
    fill(tmp_path)
    show_results(["--paper", "true", str(tmp_path)])
    printed = capsys.readouterr().out
    assert (tmp_path / "PAPER_TABLES").read_text() == printed
    doc = tmp_path / "doc.md"
    results_block = f"{update_docs_results.BEGIN}\nkept\n{update_docs_results.END}\n"
    doc.write_text(f"{results_block}<!-- PAPER_TABLES:BEGIN -->\nold\n<!-- PAPER_TABLES:END -->\n")
    update_docs_results.main(["--marker", "PAPER_TABLES", str(tmp_path / "PAPER_TABLES"), str(doc)])
    assert doc.read_text() == f"{results_block}<!-- PAPER_TABLES:BEGIN -->\n```\n{printed}```\n<!-- PAPER_TABLES:END -->\n"


def test_a_bad_bottleneck_size_stops_run_sh_before_any_stage():
    out = subprocess.run(["./run.sh", "--verification-ndims", "64 x", "--stage", "99"], cwd=REPO,
                         capture_output=True, text=True)
    assert out.returncode == 1 and "--verification-ndims: 'x' is not a bottleneck size" in out.stderr
