"""Print <exp-root>/RESULTS and draw the DET curves of every scored system into <exp-root>/det.png.

    python -m pyspk.bin.show_results [--det-png PATH] <exp-root>
"""
import dataclasses
import os
import sys

from pyspk import results
from pyspk.bin.options import parse_options, run_command


@dataclasses.dataclass
class Options:
    """Print the results table of an experiment dir and draw its DET plot."""
    det_png: str = ""   # where to draw the DET plot ("" = <exp-root>/det.png)


def log(msg):
    print(msg, file=sys.stderr)


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["exp_root"])
    systems = results.load(args.exp_root)
    if not systems:
        sys.exit(f"show_results: no results recorded in {args.exp_root}/RESULTS.json")
    print(results.format_table(systems), end="")
    png = opts.det_png or os.path.join(args.exp_root, "det.png")
    drawn = results.draw_det(args.exp_root, png, log=log)
    log(f"show_results: DET curves of {', '.join(drawn)} -> {png}" if drawn
        else "show_results: no system recorded scores and trials; no DET plot")


if __name__ == "__main__":
    run_command(main)
