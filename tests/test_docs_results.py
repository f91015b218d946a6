"""Results tables in the docs are pasted from a RESULTS file, never typed: the paste tool, its errors,
and the shipped README and docs agreeing with each other."""
import glob
import os
import re
import subprocess

import pytest

from conftest import ROOT
from pyspk.bin import update_docs_results as U

TABLE = "system  top-1%\ncnn_b_joint  46.59\n"


def test_paste_replaces_every_block_and_nothing_else(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{U.BEGIN}\nold figures\n{U.END}\nmiddle\n{U.BEGIN}\n{U.END}\nend\n")
    (tmp_path / "RESULTS").write_text(TABLE)
    U.main([str(tmp_path / "RESULTS"), str(doc)])
    block = f"{U.BEGIN}\n```\n{TABLE}```\n{U.END}\n"
    assert doc.read_text() == f"intro\n{block}middle\n{block}end\n"
    U.main([str(tmp_path / "RESULTS"), str(doc)])   # pasting again changes nothing
    assert doc.read_text() == f"intro\n{block}middle\n{block}end\n"


@pytest.mark.parametrize("text, message", [
    (f"{U.BEGIN}\nx\n", "never closed"),
    (f"x\n{U.END}\n", r"doc.md:2: <!-- RESULTS:END --> without"),
    (f"{U.BEGIN}\n{U.BEGIN}\n{U.END}\n", "doc.md:2: .* inside another"),
])
def test_unpaired_markers_are_errors_naming_the_file(tmp_path, text, message):
    doc = tmp_path / "doc.md"
    doc.write_text(text)
    (tmp_path / "RESULTS").write_text(TABLE)
    with pytest.raises(ValueError, match=message):
        U.main([str(tmp_path / "RESULTS"), str(doc)])
    assert doc.read_text() == text


def test_shell_wrapper_needs_a_results_file(tmp_path):
    out = subprocess.run(["utils/update_docs_results.sh", str(tmp_path / "none")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 1 and "no such file" in out.stderr


def test_the_shipped_docs_show_one_and_the_same_results_table():
    blocks = {}
    for path in [f"{ROOT}/README.md", *sorted(glob.glob(f"{ROOT}/docs/*.md"))]:
        text = open(path, encoding="utf-8").read()
        for block in re.findall(re.escape(U.BEGIN) + r"\n(.*?)" + re.escape(U.END), text, flags=re.S):
            blocks.setdefault(block, []).append(os.path.relpath(path, ROOT))
    assert len(blocks) == 1, blocks
    assert len(next(iter(blocks.values()))) >= 2


def test_shell_wrapper_pastes_a_second_run_under_its_own_marker(tmp_path):
    # --marker SO762 fills the SO762 blocks with that run's RESULTS and its PAPER_TABLES the
    # SO762_PAPER_TABLES blocks; the demo run's RESULTS blocks are left as they are.
    for name in ("path.sh", "utils", "pyspk", ".venv", "requirements.txt"):
        os.symlink(f"{ROOT}/{name}", tmp_path / name)
    (tmp_path / "docs").mkdir()
    demo = f"{U.BEGIN}\n```\n{TABLE}```\n{U.END}\n"
    doc = tmp_path / "docs" / "x.md"
    doc.write_text(demo + "<!-- SO762:BEGIN -->\n<!-- SO762:END -->\n"
                   "<!-- SO762_PAPER_TABLES:BEGIN -->\n<!-- SO762_PAPER_TABLES:END -->\n")
    (tmp_path / "README.md").write_text(demo)
    run = tmp_path / "exp_so762"
    run.mkdir()
    (run / "RESULTS").write_text("system  EER%\nivector_plda  9.64\n")
    (run / "PAPER_TABLES").write_text("Table 5\n")
    out = subprocess.run(["utils/update_docs_results.sh", "--marker", "SO762", "exp_so762/RESULTS"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert doc.read_text() == (demo + "<!-- SO762:BEGIN -->\n```\nsystem  EER%\nivector_plda  9.64\n```\n"
                               "<!-- SO762:END -->\n<!-- SO762_PAPER_TABLES:BEGIN -->\n```\nTable 5\n```\n"
                               "<!-- SO762_PAPER_TABLES:END -->\n")
    assert (tmp_path / "README.md").read_text() == demo
