"""Copy a data dir keeping a subset of utterances (and carrying features from another dir)."""
import dataclasses
import sys

from pyspk.augment.speed_perturb import original_speaker
from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.datadir import DataDir, DataDirError, subset_data_dir
from pyspk.io.tables import TableError, read_table


@dataclasses.dataclass
class Options:
    """Make <dst> from <src> keeping the utterances selected; trials keep lines whose sides remain."""
    utt_list: str = dataclasses.field(default="", metadata={"help": "file whose first column lists utterances to keep"})
    spk_list: str = dataclasses.field(default="", metadata={"help": "file whose first column lists speakers to keep"})
    with_speed_copies: bool = dataclasses.field(default=False, metadata={"help": "--spk-list also keeps the speed-perturbed copies of its speakers made as new speakers (sp<factor>-<speaker>)"})
    feats_from: str = dataclasses.field(default="", metadata={"help": "data dir whose feats.scp/vad.scp to carry; utterances without features are dropped"})


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["src", "dst"])
    try:
        utts = None
        if opts.utt_list:
            utts = {row[0] for row in read_table(opts.utt_list)}
        if opts.spk_list:
            speakers = {row[0] for row in read_table(opts.spk_list)}
            src = DataDir(args.src)
            speaker_of = original_speaker if opts.with_speed_copies else str
            by_spk = {u for u in src.utts if speaker_of(src.utt2spk[u]) in speakers}
            utts = by_spk if utts is None else utts & by_spk
        subset_data_dir(args.src, args.dst, utts, feats_from=opts.feats_from or None)
    except (DataDirError, TableError) as e:
        sys.exit(f"subset_data_dir: {e}")


if __name__ == "__main__":
    run_command(main)
