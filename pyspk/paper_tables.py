"""Yadav & Rai (2018)'s Tables 4 and 5 with this recipe's figures beside the paper's.

``TABLE4`` (identification) and ``TABLE5`` (verification) map every row the paper built to the
recipe's system name (its RESULTS row) and to the ``run.sh`` option that builds it (none: a default
run does); the two CNN rows the paper quotes from the VoxCeleb paper are left out. ``format_paper_tables``
prints both tables from an experiment's results rows: per row the paper's figure, ours, what ours
counted, and the corpus and config that produced it, or "not run" and the option that adds it.
"""
import dataclasses
import re

from pyspk.results import format_counts

NOT_RUN = "not run"


@dataclasses.dataclass(frozen=True)
class PaperRow:
    """One row of a paper table: its label there, the paper's figures (percent; None: not given),
    the recipe system that reproduces it, and the run.sh option that builds that system."""
    label: str
    paper: tuple
    system: str
    option: str = ""   # "" = built by a default ./run.sh


@dataclasses.dataclass(frozen=True)
class PaperTable:
    title: str
    metrics: tuple     # results fields, e.g. ("top1", "top5")
    titles: tuple      # their column titles
    counts: str        # what the figures count: "utts" | "trials"
    rows: tuple


NDIMS_OPTION = '--verification-ndims "64 128 256"'

TABLE4 = PaperTable(
    "Table 4: speaker identification, VoxCeleb1 (1,251 speakers), accuracy %", ("top1", "top5"),
    ("top-1", "top-5"), "utts", (
        PaperRow("I-vectors + SVM", (49.0, 56.6), "ivector_svm"),
        PaperRow("I-vectors + PLDA + SVM", (60.8, 75.6), "ivector_plda_svm"),
        PaperRow("Network A", (83.5, 93.8), "cnn_a_softmax", "--network-a true"),
        PaperRow("Network B", (84.6, 94.1), "cnn_b_softmax"),
        PaperRow("Network A Joint", (88.3, 96.8), "cnn_a_joint", "--network-a true"),
        PaperRow("Network B Joint", (89.5, 97.0), "cnn_b_joint"),
    ))

TABLE5 = PaperTable(
    "Table 5: speaker verification, VoxCeleb1 test (40 speakers), EER %", ("eer",), ("EER",), "trials", (
        PaperRow("GMM-UBM", (15.0,), "gmm_ubm"),
        PaperRow("I-vectors + PLDA", (8.8,), "ivector_plda"),
        PaperRow("Network B Joint (ndims 128)", (4.9,), "cnn_b_joint"),
        PaperRow("Network B Joint (ndims 64)", (None,), "cnn_b_joint_nd64", NDIMS_OPTION),
        PaperRow("Network B Joint (ndims 256)", (None,), "cnn_b_joint_nd256", NDIMS_OPTION),
    ))

_ND_SYSTEM = re.compile(r"^cnn_b_joint_nd(\d+)$")


def ndims_system(ndims):
    """The verification system name of Network B Joint with an ``ndims`` bottleneck (128: the paper's)."""
    return "cnn_b_joint" if int(ndims) == 128 else f"cnn_b_joint_nd{int(ndims)}"


def _with_swept_ndims(table, rows):
    """TABLE5 plus a row for every other bottleneck size the results hold (``--verification-ndims``)."""
    known = {r.system for r in table.rows}
    extra = sorted({int(m.group(1)) for r in rows if (m := _ND_SYSTEM.match(r["system"]))
                    and r["system"] not in known})
    return table.rows + tuple(PaperRow(f"Network B Joint (ndims {n})", (None,), ndims_system(n), NDIMS_OPTION)
                              for n in extra)


def _paper_cell(value):
    return "-" if value is None else f"{value:.1f}"


def _table_lines(table, rows):
    """Fixed-width lines of one paper table from results rows (dicts with ``system`` etc.)."""
    paper_rows = _with_swept_ndims(table, rows) if table is TABLE5 else table.rows
    header = ["system", *(f"paper {t}" for t in table.titles), *(f"ours {t}" for t in table.titles),
              table.counts, *(["trials-list"] if table.counts == "trials" else []), "recipe system",
              "corpus", "config"]
    lines = []
    for prow in paper_rows:
        ours = [r for r in rows if r["system"] == prow.system and all(m in r for m in table.metrics)]
        paper = [_paper_cell(v) for v in prow.paper]
        if not ours:
            how = f"./run.sh {prow.option}" if prow.option else "a default ./run.sh"
            lines.append([prow.label, *paper, f"{NOT_RUN} (added by {how})"])
        for r in ours:
            trial_list = [r.get("trial_list") or "-"] if table.counts == "trials" else []
            lines.append([prow.label, *paper, *(f"{r[m]:.2f}" for m in table.metrics),
                          format_counts(r, table.counts), *trial_list, prow.system,
                          r.get("corpus", "-"), r.get("config", "-")])
    # A "not run" line's note (its last cell) spans the columns after the paper's: not measured.
    measured = [line if len(line) == len(header) else line[:-1] for line in [header, *lines]]
    widths = [max(len(line[i]) for line in measured if len(line) > i) for i in range(len(header))]
    text_columns = header.index(table.counts) + 1  # names from here on: left-aligned like the labels
    out = [table.title]
    for line in [header, *lines]:
        cells = [c.ljust(widths[i]) if i == 0 or i >= text_columns else c.rjust(widths[i])
                 for i, c in enumerate(line)]
        out.append("  ".join(cells).rstrip())
    return out


def format_paper_tables(rows):
    """Tables 4 and 5 of Yadav & Rai (2018) beside the results ``rows`` (``pyspk.results.load``'s values)."""
    rows = list(rows)
    return "\n".join([*_table_lines(TABLE4, rows), "", *_table_lines(TABLE5, rows)]) + "\n"
