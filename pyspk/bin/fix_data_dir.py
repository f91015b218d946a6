"""Keep only utterances present in every table of a data dir, sorted, spk2utt rebuilt (in place)."""
import dataclasses
import sys

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.datadir import DataDirError, fix_data_dir


@dataclasses.dataclass
class Options:
    """Repair <data_dir> in place like Kaldi's utils/fix_data_dir.sh."""


def main(argv=None):
    setup_logging()
    _, args = parse_options(Options, argv, positional=["data_dir"])
    try:
        fix_data_dir(args.data_dir)
    except DataDirError as e:
        sys.exit(f"fix_data_dir: {e}")


if __name__ == "__main__":
    run_command(main)
