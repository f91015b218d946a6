"""Closed-set identification with a trained network on full-length utterances:

    python -m pyspk.bin.identify_cnn [--exp-root exp --system NAME] <checkpoint> <test-data>

Prints "top-1: 83.51%" and "top-5: 93.80%"; with --system, records them in <exp-root>/RESULTS.
"""
import dataclasses

from pyspk.bin.options import parse_options, run_command
from pyspk.io.datadir import DataDir
from pyspk.device import pick_device
from pyspk.nnet.checkpoint import load_model_and_head
from pyspk.nnet.identify import identification_accuracy
from pyspk.nnet.vgg import count_parameters
from pyspk.results import check_counted, details, record


@dataclasses.dataclass
class Options:
    """Top-1 / top-5 identification accuracy of a trained network on a data dir."""
    exp_root: str = "exp"        # where RESULTS lives
    system: str = ""             # row name in RESULTS ("" = do not record)
    max_frames: int = 0          # padded frames per batch (0: 40000 on GPU, 1 on CPU)
    device: str = "auto"         # auto | cpu | cuda
    listed_data: str = ""        # data dir of the list the figure is for ("" = test-data itself)
    max_bad_fraction: float = 0.5  # fail when more than this fraction of its utterances is not scored
    corpus: str = ""             # corpus recorded with the row (where the data came from)
    config_used: str = ""        # config file(s) recorded with the row (what trained the model)


def main(argv=None):
    opts, pos = parse_options(Options, argv, positional=("checkpoint", "test_data"))
    device = pick_device(opts.device)
    model, head, speakers = load_model_and_head(pos.checkpoint, device)
    data = DataDir(pos.test_data)
    top, n = identification_accuracy(model, head, pos.test_data, data.utt2spk, speakers, device,
                                     opts.max_frames, ks=(1, 5))
    listed_dir = opts.listed_data or pos.test_data
    listed = len(DataDir(listed_dir).utt2spk)
    check_counted(n, listed, "utterances", listed_dir, opts.max_bad_fraction)
    print(f"{n} of {listed} utterances of {listed_dir} scored, {len(speakers)} classes")
    print(f"top-1: {top[1]:.2f}%")
    print(f"top-5: {top[5]:.2f}%")
    if opts.system:
        record(opts.exp_root, opts.system, top1=round(top[1], 2), top5=round(top[5], 2),
               dim=model.ndims, params=count_parameters(model) + count_parameters(head),
               utts_counted=n, utts_listed=listed, **details(opts))


if __name__ == "__main__":
    run_command(main)
