"""Check a data dir (sorting, duplicates, consistency, trials) like Kaldi's validate_data_dir.sh."""
import dataclasses
import sys

from pyspk.bin.options import parse_options, run_command
from pyspk.io.datadir import DataDirError, validate_data_dir


@dataclasses.dataclass
class Options:
    """Check a data dir; exit 1 with a message naming the offending file and line."""
    need_feats: bool = False
    need_wav: bool = True


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["data_dir"])
    try:
        d = validate_data_dir(args.data_dir, need_feats=opts.need_feats, need_wav=opts.need_wav)
    except DataDirError as e:
        sys.exit(f"validate_data_dir: {e}")
    print(f"validate_data_dir: {args.data_dir} is OK ({len(d.utts)} utterances, {len(d.speakers)} speakers)")


if __name__ == "__main__":
    run_command(main)
