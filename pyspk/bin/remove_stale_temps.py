"""Remove the temp files that killed atomic writes of an output left (``pyspk.io.atomic``)."""
import dataclasses

from pyspk.bin.options import parse_options, run_command
from pyspk.io.atomic import remove_stale_temps


@dataclasses.dataclass
class Options:
    """Remove the temp files of <output> (a file, the files directly in a directory, or with
    --prefix=true the files whose path starts with <output>) that writers killed mid-write left.
    Only the output's one writer may run it (the steps do, holding its lock: utils/lock.sh)."""
    prefix: bool = False


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["output"])
    removed = remove_stale_temps(args.output, prefix=opts.prefix)
    if removed:
        print(f"remove_stale_temps: removed {len(removed)} temp file(s) of killed writes: " + " ".join(removed))


if __name__ == "__main__":
    run_command(main)
