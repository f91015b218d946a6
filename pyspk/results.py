"""The results table of an experiment dir and its DET plot.

``record(exp_root, system, **fields)`` merges one row per system name into
``<exp_root>/RESULTS.json`` (machine-readable, keeps the score and trials paths) and rewrites
``<exp_root>/RESULTS`` (fixed-width text), both atomically and under a lock, so identification
and verification steps of one system can fill the same row, even at the same time.
``draw_det(exp_root, png)`` draws the DET curve of every system that recorded scores + trials.
"""
import contextlib
import fcntl
import json
import math
import os

import numpy as np

from pyspk.io.atomic import atomic_write
from pyspk.io.trials import read_scores, read_trials
from pyspk.metrics import det_curve

# field -> (column title, width, format); top-1/top-5/EER in percent.
COLUMNS = {
    "top1": ("top-1%", 7, "{:.2f}"),
    "top5": ("top-5%", 7, "{:.2f}"),
    "eer": ("EER%", 8, "{:.4f}"),
    "mindcf_0.01": ("minDCF0.01", 10, "{:.4f}"),
    "mindcf_0.001": ("minDCF0.001", 11, "{:.4f}"),
    "mindcf_0.05": ("minDCF0.05", 10, "{:.4f}"),
    "dim": ("dim", 5, "{:d}"),
    "params": ("params", 8, None),
}
PATH_FIELDS = ("scores", "trials")
# Keyword-friendly spellings: record(..., mindcf_0_01=x) == record(..., **{"mindcf_0.01": x}).
ALIASES = {"mindcf_0_01": "mindcf_0.01", "mindcf_0_001": "mindcf_0.001", "mindcf_0_05": "mindcf_0.05"}


def _format_params(n):
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def format_table(systems):
    """Render {system: fields} as the fixed-width RESULTS text; missing values are '-'."""
    name_width = max([len("system")] + [len(s) for s in systems])
    header = "system".ljust(name_width) + "".join(" " + title.rjust(w) for title, w, _ in COLUMNS.values())
    lines = [header]
    for name, fields in systems.items():
        cells = []
        for key, (_, width, fmt) in COLUMNS.items():
            value = fields.get(key)
            text = "-" if value is None else _format_params(value) if key == "params" else fmt.format(value)
            cells.append(text.rjust(width))
        lines.append(name.ljust(name_width) + "".join(" " + c for c in cells))
    return "\n".join(lines) + "\n"


def _check_fields(fields, exp_root):
    out = {}
    for key, value in fields.items():
        key = ALIASES.get(key, key)
        if key in PATH_FIELDS:
            # Stored relative to exp_root so that the experiment dir can move.
            out[key] = os.path.relpath(os.path.abspath(value), os.path.abspath(exp_root))
        elif key in ("dim", "params"):
            out[key] = int(value)
        elif key in COLUMNS:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"results field {key} is {value}")
            out[key] = value
        else:
            raise ValueError(f"unknown results field {key!r} (known: {', '.join([*COLUMNS, *PATH_FIELDS])})")
    return out


@contextlib.contextmanager
def _locked(exp_root):
    os.makedirs(exp_root, exist_ok=True)
    with open(os.path.join(exp_root, ".RESULTS.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load(exp_root):
    """{system: fields} from <exp_root>/RESULTS.json ({} when there is none), paths made absolute."""
    path = os.path.join(exp_root, "RESULTS.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        systems = json.load(f)
    for fields in systems.values():
        for key in PATH_FIELDS:
            if key in fields:
                fields[key] = os.path.normpath(os.path.join(exp_root, fields[key]))
    return systems


def record(exp_root, system, **fields):
    """Merge ``fields`` into the row of ``system`` (created if new) and rewrite both tables.

    Fields: top1, top5 (percent), eer (percent), mindcf_0.01, mindcf_0.001, mindcf_0.05, dim,
    params (ints), scores, trials (paths, for the DET plot). Returns the merged row.
    """
    if not system or any(c.isspace() for c in system):
        raise ValueError(f"system name must be one non-empty word, got {system!r}")
    new = _check_fields(fields, exp_root)
    json_path = os.path.join(exp_root, "RESULTS.json")
    with _locked(exp_root):
        systems = {}
        if os.path.exists(json_path):
            with open(json_path, encoding="utf-8") as f:
                systems = json.load(f)
        systems.setdefault(system, {}).update(new)
        with atomic_write(json_path) as f:
            json.dump(systems, f, indent=1)  # systems in the order first recorded
            f.write("\n")
        with atomic_write(os.path.join(exp_root, "RESULTS")) as f:
            f.write(format_table(systems))
    return systems[system]


DET_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6)  # rates on both axes


def draw_det(exp_root, png_path, log=print):
    """Draw the DET curves (probit axes, percent) of every system in <exp_root>/RESULTS.json with
    scores and trials into ``png_path`` (atomically). Returns the names drawn (none: no file)."""
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
            log(f"draw_det: {name}: {fields['scores']} or {fields['trials']} is gone; not drawn")
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
