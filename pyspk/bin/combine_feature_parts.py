"""Last step of a feature step, after all jobs succeeded: join the jobs' scp parts into one table
of the data dir (atomically), or fail when nothing usable is left or too much was skipped."""
import dataclasses
import sys

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.features.extract import StepError, combine_parts
from pyspk.io.tables import TableError


@dataclasses.dataclass
class Options:
    """Join <part_pattern> (JOB = 1..nj) into <data_dir>/<out_name> (feats.scp or vad.scp)."""
    nj: int = 1
    max_bad_fraction: float = 0.5
    num_frames_pattern: str = dataclasses.field(
        default="", metadata={"help": "per-job utt2num_frames parts (JOB = 1..nj) -> <data_dir>/utt2num_frames"})


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["data_dir", "out_name", "part_pattern"])
    jobs = [str(j) for j in range(1, opts.nj + 1)]
    frames = [opts.num_frames_pattern.replace("JOB", j) for j in jobs] if opts.num_frames_pattern else []
    try:
        combine_parts(args.data_dir, [args.part_pattern.replace("JOB", j) for j in jobs], args.out_name,
                      opts.max_bad_fraction, frames)
    except (StepError, TableError) as e:
        sys.exit(f"combine_feature_parts: ERROR: {e}")


if __name__ == "__main__":
    run_command(main)
