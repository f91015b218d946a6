"""Split a data dir into N parts (<dir>/splitN/1..N) for parallel jobs."""
import dataclasses
import sys

from pyspk.bin.options import parse_options, run_command
from pyspk.io.datadir import DataDirError, split_data_dir


@dataclasses.dataclass
class Options:
    """Split <data_dir> into <num_parts> contiguous parts by sorted utterance id."""


def main(argv=None):
    _, args = parse_options(Options, argv, positional=["data_dir", "num_parts"])
    try:
        split_data_dir(args.data_dir, int(args.num_parts))
    except (DataDirError, ValueError) as e:
        sys.exit(f"split_data_dir: {e}")


if __name__ == "__main__":
    run_command(main)
