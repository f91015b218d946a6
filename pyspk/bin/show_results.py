"""Print <exp-root>/RESULTS and draw the DET curves of every scored system into <exp-root>/det.png;
with --paper true, print Yadav & Rai (2018)'s Tables 4 and 5 with our figures beside the paper's (also
written to <exp-root>/PAPER_TABLES, which utils/update_docs_results.sh pastes into the README).

    python -m pyspk.bin.show_results [--det-png PATH] [--paper true] <exp-root>
"""
import dataclasses
import os
import sys

from pyspk import results
from pyspk.bin.options import parse_options, run_command
from pyspk.io.atomic import atomic_write
from pyspk.paper_tables import format_paper_tables


@dataclasses.dataclass
class Options:
    """Print the results table of an experiment dir and draw its DET plot."""
    det_png: str = ""   # where to draw the DET plot ("" = <exp-root>/det.png)
    paper: bool = False  # print the paper's Tables 4 and 5 with ours beside them instead of RESULTS


def main(argv=None):
    # stdout is the table: no setup_logging (pyspk warnings reach stderr through logging's default)
    opts, args = parse_options(Options, argv, positional=["exp_root"])
    rows = results.load(args.exp_root)
    if not rows:
        raise ValueError(f"no results recorded in {args.exp_root}/RESULTS.json")
    if opts.paper:
        tables = format_paper_tables(rows.values())
        with atomic_write(os.path.join(args.exp_root, "PAPER_TABLES")) as f:
            f.write(tables)
        print(tables, end="")
        return
    print(results.format_table(rows.values()), end="")
    png = opts.det_png or os.path.join(args.exp_root, "det.png")
    drawn = results.draw_det(args.exp_root, png)
    print(f"show_results: DET curves of {', '.join(drawn)} -> {png}" if drawn
          else "show_results: no system recorded scores and trials; no DET plot", file=sys.stderr)


if __name__ == "__main__":
    run_command(main)
