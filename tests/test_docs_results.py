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
