"""Paste an experiment's results table (``exp/RESULTS``, as steps/show_results.sh prints it) into the
documentation, between the lines ``<!-- RESULTS:BEGIN -->`` and ``<!-- RESULTS:END -->``, so that no
figure in the docs is typed by hand. ``--marker PAPER_TABLES`` pastes ``exp/PAPER_TABLES`` (the paper's
Tables 4 and 5 beside ours, steps/show_results.sh --paper true) between ``<!-- PAPER_TABLES:BEGIN -->``
and ``<!-- PAPER_TABLES:END -->`` instead.

    python -m pyspk.bin.update_docs_results [--marker RESULTS|PAPER_TABLES] <results-file> <markdown-file>
    (utils/update_docs_results.sh [<results-file>] does README.md and docs/*.md)

A file without the markers is left alone; unpaired markers are an error naming the file and line. A
changed file is rewritten atomically.
"""
import dataclasses
import logging

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.atomic import atomic_write

logger = logging.getLogger(__name__)



def markers(name):
    """The (begin, end) marker lines of the block named ``name``."""
    return f"<!-- {name}:BEGIN -->", f"<!-- {name}:END -->"


BEGIN, END = markers("RESULTS")


@dataclasses.dataclass
class Options:
    """Paste a RESULTS table between the RESULTS markers of markdown files."""
    marker: str = "RESULTS"   # the block to fill: RESULTS | PAPER_TABLES


def paste(text, table, where, marker="RESULTS"):
    """Markdown ``text`` with every begin/end block of ``marker`` replaced by ``table`` in a code block."""
    begin, end = markers(marker)
    lines, out, inside = text.splitlines(keepends=True), [], False
    for lineno, line in enumerate(lines, 1):
        mark = line.strip()
        if mark == begin:
            if inside:
                raise ValueError(f"{where}:{lineno}: {begin} inside another {marker} block")
            inside = True
            out += [line, "```\n", table if table.endswith("\n") else table + "\n", "```\n"]
        elif mark == end:
            if not inside:
                raise ValueError(f"{where}:{lineno}: {end} without {begin}")
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {begin} is never closed by {end}")
    return "".join(out)


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("results", "markdown"))
    with open(args.results, encoding="utf-8") as f:
        table = f.read()
    if not table.strip():
        raise ValueError(f"{args.results}: empty results table")
    with open(args.markdown, encoding="utf-8") as f:
        text = f.read()
    new = paste(text, table, args.markdown, opts.marker)
    if new != text:
        with atomic_write(args.markdown) as f:
            f.write(new)
        logger.info(f"{args.markdown}: {opts.marker} block updated from {args.results}")


if __name__ == "__main__":
    run_command(main)
