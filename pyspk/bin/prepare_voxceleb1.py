"""Stage 0: Kaldi data dirs from a corpus in VoxCeleb1 layout (see pyspk.io.voxceleb)."""
import dataclasses
import sys

from pyspk.bin.options import parse_options, run_command
from pyspk.io.datadir import DataDirError
from pyspk.io.voxceleb import CorpusError, prepare_data_dirs


@dataclasses.dataclass
class Options:
    """Make <data_root>/{all,iden_train,iden_val,iden_test,veri_train,veri_test} from <corpus_root>."""
    max_bad_fraction: float = 0.5   # fail when more than this fraction of listed utterances is unusable
    num_threads: int = 16           # threads reading file headers (I/O bound)


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["corpus_root", "data_root"])
    try:
        prepare_data_dirs(args.corpus_root, args.data_root, opts.max_bad_fraction, opts.num_threads)
    except (CorpusError, DataDirError) as e:
        sys.exit(f"prepare_voxceleb1: ERROR: {e}")


if __name__ == "__main__":
    run_command(main)
