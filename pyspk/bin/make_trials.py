"""A trial list among the utterances of a data dir (development or calibration trials):

    python -m pyspk.bin.make_trials [--max-nontarget N --seed S] <data-dir> <trials-out>

Every same-speaker pair is a target trial, every different-speaker pair a nontarget one (or
``--max-nontarget`` of them, drawn with ``--seed``); Kaldi form ``enroll test target|nontarget``.
Make such lists from speakers no test trial uses: choices made on them never see the test trials.
"""
import dataclasses

from pyspk.bin.options import parse_options, run_command
from pyspk.io.datadir import DataDir
from pyspk.io.tables import write_table
from pyspk.io.trials import pair_trials


@dataclasses.dataclass
class Options:
    """Write every target and nontarget pair of <data-dir>'s utterances to <trials-out>."""
    max_nontarget: int = 0   # keep this many nontarget pairs (0 = all)
    seed: int = 0            # for --max-nontarget


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["data", "trials"])
    rows = pair_trials(DataDir(args.data).utt2spk, opts.max_nontarget, opts.seed)
    write_table(args.trials, rows, sort=False)
    n_target = sum(r[2] == "target" for r in rows)
    print(f"make_trials: {args.trials}: {len(rows)} trials ({n_target} target) among {args.data}")


if __name__ == "__main__":
    run_command(main)
