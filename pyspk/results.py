"""The results table of an experiment dir and its DET plot.

``record(exp_root, system, trial_list="", **fields)`` merges one row per (system, trial list) into
``<exp_root>/RESULTS.json`` (machine-readable, keeps the score and trials paths, the corpus and the
config) and rewrites ``<exp_root>/RESULTS`` (fixed-width text), both atomically and under a lock, so
identification and verification steps of one system can fill the same row, even at the same time.
Every figure says what it counted: ``utts_counted``/``utts_listed`` (identification: utterances
scored / utterances of the test list) and ``trials_counted``/``trials_listed`` (verification), shown
as ``counted/listed``. The schema is open: a field this module does not know (a new metric) is kept
and shown as a column of its own.
``draw_det(exp_root, png)`` draws the DET curve of every row that recorded scores + trials.
"""
import contextlib
import fcntl
import json
import logging
import math
import os
import re

import numpy as np

from pyspk.io.atomic import atomic_write
from pyspk.io.trials import read_scores, read_trials
from pyspk.metrics import det_curve

logger = logging.getLogger(__name__)

# field -> (column title, format); top-1/top-5/EER in percent. Unknown fields follow these columns.
COLUMNS = {
    "top1": ("top-1%", "{:.2f}"),
    "top5": ("top-5%", "{:.2f}"),
    "eer": ("EER%", "{:.4f}"),
    "mindcf_0.01": ("minDCF0.01", "{:.4f}"),
    "mindcf_0.001": ("minDCF0.001", "{:.4f}"),
    "mindcf_0.05": ("minDCF0.05", "{:.4f}"),
}
TRAILING_COLUMNS = {"dim": ("dim", "{:d}"), "params": ("params", None)}
COUNTS = ("utts", "trials")           # <what>_counted / <what>_listed, shown as one column each
INT_FIELDS = ("dim", "params", *(f"{w}_{s}" for w in COUNTS for s in ("counted", "listed")))
PATH_FIELDS = ("scores", "trials")    # stored relative to exp_root; not in the text table
DETAIL_FIELDS = ("corpus", "config")  # what produced the row (shown by the paper tables, not here)
KEY_FIELDS = ("system", "trial_list")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")


def field_name(key):
    """Keyword-friendly spellings: ``mindcf_0_01`` -> ``mindcf_0.01`` (any ``_0_<digits>`` ending)."""
    return re.sub(r"_0_(\d+)$", r"_0.\1", key)


def row_key(system, trial_list=""):
    """The RESULTS.json key of a row: the system name, ``system:list`` for a named trial list."""
    return f"{system}:{trial_list}" if trial_list else system


def _format_params(n):
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def _format_value(key, value, fmt):
    if value is None:
        return "-"
    if key == "params":
        return _format_params(value)
    if fmt is not None:
        return fmt.format(value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_counts(row, what):
    """``counted/listed`` of ``what`` (utts|trials) in a row; '-' when not recorded."""
    counted, listed = row.get(f"{what}_counted"), row.get(f"{what}_listed")
    if counted is None:
        return "-"
    return f"{counted}/{listed if listed is not None else '?'}"


def _extra_fields(rows):
    """Fields no column of this module names, in first-recorded order."""
    known = {*COLUMNS, *TRAILING_COLUMNS, *INT_FIELDS, *PATH_FIELDS, *DETAIL_FIELDS, *KEY_FIELDS}
    extra = []
    for row in rows:
        extra += [k for k in row if k not in known and k not in extra]
    return extra


def format_table(rows):
    """Render rows (dicts with ``system``, maybe ``trial_list``, and fields) as the fixed-width
    RESULTS text: one column per figure, '-' where a row has none, ``counted/listed`` counts."""
    rows = list(rows)
    columns = [("system", lambda r: r["system"])]
    if any(r.get("trial_list") for r in rows):
        columns.append(("trials-list", lambda r: r.get("trial_list") or "-"))
    for key, (title, fmt) in [*COLUMNS.items(), *((k, (k, None)) for k in _extra_fields(rows)),
                              *TRAILING_COLUMNS.items()]:
        columns.append((title, lambda r, key=key, fmt=fmt: _format_value(key, r.get(key), fmt)))
    columns += [(what, lambda r, what=what: format_counts(r, what)) for what in COUNTS]
    cells = [[title for title, _ in columns]] + [[cell(r) for _, cell in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for line in cells:
        text = [line[i].ljust(widths[i]) if i == 0 else line[i].rjust(widths[i]) for i in range(len(line))]
        lines.append(" ".join(text).rstrip())
    return "\n".join(lines) + "\n"


def _check_value(key, value):
    if isinstance(value, bool) or value is None:
        raise ValueError(f"results field {key} must be a number or text, got {value!r}")
    if key in INT_FIELDS:
        if int(value) != value or value < 0:
            raise ValueError(f"results field {key} must be a count (integer >= 0), got {value!r}")
        return int(value)
    if key in DETAIL_FIELDS or isinstance(value, str):
        value = str(value)
        if not value or "\n" in value:
            raise ValueError(f"results field {key} must be one non-empty line, got {value!r}")
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"results field {key} is {value}")
    return value


def _check_fields(fields, exp_root):
    out = {}
    for key, value in fields.items():
        key = field_name(key)
        if key in KEY_FIELDS or not _NAME.match(key):
            raise ValueError(f"results field name {key!r} is reserved or not a word")
        if key in PATH_FIELDS:
            # Stored relative to exp_root so that the experiment dir can move.
            out[key] = os.path.relpath(os.path.abspath(value), os.path.abspath(exp_root))
        else:
            out[key] = _check_value(key, value)
    return out


def _check_counts(row):
    for what in COUNTS:
        counted, listed = row.get(f"{what}_counted"), row.get(f"{what}_listed")
        if counted is not None and listed is not None and counted > listed:
            raise ValueError(f"{row_key(row['system'], row.get('trial_list'))}: {counted} {what} counted "
                             f"but only {listed} listed")


@contextlib.contextmanager
def _locked(exp_root):
    os.makedirs(exp_root, exist_ok=True)
    with open(os.path.join(exp_root, ".RESULTS.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_json(path):
    """{row key: row} from RESULTS.json; rows written before rows named themselves get their system."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    for key, row in rows.items():
        row.setdefault("system", key)
    return rows


def load(exp_root):
    """{row key: row} from <exp_root>/RESULTS.json ({} when there is none), paths made absolute.
    A row holds ``system``, ``trial_list`` (when named) and its fields; see ``row_key``."""
    rows = _read_json(os.path.join(exp_root, "RESULTS.json"))
    for row in rows.values():
        for key in PATH_FIELDS:
            if key in row:
                row[key] = os.path.normpath(os.path.join(exp_root, row[key]))
    return rows


def record(exp_root, system, trial_list="", **fields):
    """Merge ``fields`` into the row of (``system``, ``trial_list``) (created if new) and rewrite
    both tables. Returns the merged row.

    Fields: top1, top5 (percent), eer (percent), mindcf_0.01, mindcf_0.001, mindcf_0.05 (also
    spelled mindcf_0_01 ...), dim, params; utts_counted, utts_listed, trials_counted,
    trials_listed (what the figures counted: scored / in the list); scores, trials (paths, for the
    DET plot); corpus, config (what produced the row); any other named number or text is kept and
    shown as its own column.
    """
    for what, name in (("system", system), ("trial list", trial_list or "x")):
        if not name or any(c.isspace() for c in name) or ":" in name:
            raise ValueError(f"{what} name must be one non-empty word without ':', got {name!r}")
    new = _check_fields(fields, exp_root)
    json_path = os.path.join(exp_root, "RESULTS.json")
    with _locked(exp_root):
        rows = _read_json(json_path)
        key = row_key(system, trial_list)
        row = rows.setdefault(key, {"system": system, **({"trial_list": trial_list} if trial_list else {})})
        row.update(new)
        _check_counts(row)
        with atomic_write(json_path) as f:
            json.dump(rows, f, indent=1)  # rows in the order first recorded
            f.write("\n")
        with atomic_write(os.path.join(exp_root, "RESULTS")) as f:
            f.write(format_table(rows.values()))
    return row


DET_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6)  # rates on both axes


def draw_det(exp_root, png_path):
    """Draw the DET curves (probit axes, percent) of every row in <exp_root>/RESULTS.json with
    scores and trials into ``png_path`` (atomically). Returns the row keys drawn (none: no file)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    lo, hi = 0.0005, 0.9995
    fig, ax = plt.subplots(figsize=(6, 6))
    drawn = []
    for name, fields in load(exp_root).items():
        if not all(k in fields for k in PATH_FIELDS):
            continue
        if not all(os.path.exists(fields[k]) for k in PATH_FIELDS):
            logger.warning(f"draw_det: {name}: {fields['scores']} or {fields['trials']} is gone; not drawn")
            continue
        trials = read_trials(fields["trials"])
        scores, _ = read_scores(fields["scores"], trials)
        fpr, fnr, _ = det_curve(scores, trials.target)
        label = name + (f" (EER {fields['eer']:.2f}%)" if "eer" in fields else "")
        ax.plot(norm.ppf(np.clip(fpr, lo, hi)), norm.ppf(np.clip(fnr, lo, hi)), label=label)
        drawn.append(name)
    if drawn:
        ticks, labels = norm.ppf(DET_TICKS), [f"{100 * t:g}" for t in DET_TICKS]
        ax.set_xticks(ticks, labels)
        ax.set_yticks(ticks, labels)
        ax.set_xlim(ticks[0], ticks[-1])
        ax.set_ylim(ticks[0], ticks[-1])
        ax.plot([norm.ppf(lo), norm.ppf(hi)], [norm.ppf(lo), norm.ppf(hi)], color="0.8", lw=0.8, ls=":")
        ax.set_xlabel("false alarm rate (%)")
        ax.set_ylabel("miss rate (%)")
        ax.set_title(f"DET: {os.path.basename(os.path.abspath(exp_root))}")
        ax.grid(True, color="0.9")
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        with atomic_write(png_path, "wb") as f:
            fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    return drawn


def check_counted(counted, listed, what, where, max_bad_fraction=0.5):
    """Fail (ValueError naming ``where``) when more than ``max_bad_fraction`` of the ``listed``
    items (utterances, trials) were not ``counted``: a figure over a small subset is not the
    list's figure. The same default as feature extraction's ``--max-bad-fraction``."""
    if listed <= 0 or counted <= 0:
        raise ValueError(f"{where}: {counted} of {listed} {what} could be scored")
    if listed - counted > max_bad_fraction * listed:
        raise ValueError(f"{where}: only {counted} of {listed} {what} could be scored: more than "
                         f"--max-bad-fraction={max_bad_fraction} left out (see the WARNING lines)")


def details(opts):
    """The ``corpus`` and ``config`` fields from a command's ``--corpus``/``--config-used`` options
    (those given), for ``record``."""
    given = {"corpus": getattr(opts, "corpus", ""), "config": getattr(opts, "config_used", "")}
    return {k: v for k, v in given.items() if v}
