"""Stage 0: Kaldi data dirs from VoxCeleb1 (test corpus) and optionally VoxCeleb2 dev (training
corpus); see pyspk.corpora.voxceleb."""
import dataclasses

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.corpora.voxceleb import prepare_data_dirs


@dataclasses.dataclass
class Options:
    """Make <data_root>/{all,iden_train,iden_val,iden_test,veri_train,veri_val,veri_test} from <corpus_root>."""
    train_corpus_root: str = ""     # VoxCeleb2 dev layout: verification training corpus ("" = VoxCeleb1's non-test speakers)
    trial_lists: str = ""           # comma-separated trial-list names to use, e.g. vox1_O,vox1_O_clean ("" = all present)
    max_bad_fraction: float = 0.5   # fail when more than this fraction of listed utterances is unusable
    num_threads: int = 16           # threads reading file headers (I/O bound)


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["corpus_root", "data_root"])
    lists = [n for n in opts.trial_lists.split(",") if n] or None
    prepare_data_dirs(args.corpus_root, args.data_root, opts.train_corpus_root or None, lists,
                      opts.max_bad_fraction, opts.num_threads)


if __name__ == "__main__":
    run_command(main)
