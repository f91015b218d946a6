"""Paste an experiment's results table (``exp/RESULTS``, as steps/show_results.sh prints it) into the
documentation, between the lines ``<!-- RESULTS:BEGIN -->`` and ``<!-- RESULTS:END -->``, so that no
figure in the docs is typed by hand.

    python -m pyspk.bin.update_docs_results <results-file> <markdown-file>
    (utils/update_docs_results.sh [<results-file>] does README.md and docs/*.md)

A file without the markers is left alone; unpaired markers are an error naming the file and line. A
changed file is rewritten atomically.
"""
import dataclasses
import logging

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.atomic import atomic_write

logger = logging.getLogger(__name__)

BEGIN = "<!-- RESULTS:BEGIN -->"
END = "<!-- RESULTS:END -->"


@dataclasses.dataclass
class Options:
    """Paste a RESULTS table between the RESULTS markers of markdown files."""


def paste(text, table, where):
    """Markdown ``text`` with every BEGIN/END block's content replaced by ``table`` in a code block."""
    lines, out, inside = text.splitlines(keepends=True), [], False
    for lineno, line in enumerate(lines, 1):
        mark = line.strip()
        if mark == BEGIN:
            if inside:
                raise ValueError(f"{where}:{lineno}: {BEGIN} inside another RESULTS block")
            inside = True
            out += [line, "```\n", table if table.endswith("\n") else table + "\n", "```\n"]
        elif mark == END:
            if not inside:
                raise ValueError(f"{where}:{lineno}: {END} without {BEGIN}")
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "".join(out)


def main(argv=None):
    setup_logging()
    _, args = parse_options(Options, argv, positional=("results", "markdown"))
    with open(args.results, encoding="utf-8") as f:
        table = f.read()
    if not table.strip():
        raise ValueError(f"{args.results}: empty results table")
    with open(args.markdown, encoding="utf-8") as f:
        text = f.read()
    new = paste(text, table, args.markdown)
    if new != text:
        with atomic_write(args.markdown) as f:
            f.write(new)
        logger.info(f"{args.markdown}: results table updated from {args.results}")


if __name__ == "__main__":
    run_command(main)
