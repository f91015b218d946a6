"""Train a VGG speaker network:  python -m pyspk.bin.train_cnn [options] <train-data> <valid-data> <exp-dir>

Writes <exp-dir>/{final.pt, last.pt, config, spk2label}; the log goes to stdout. Under torchrun every
process runs this same command (only rank 0 logs progress). ``--print-params true`` prints the parameter
count of the network with its classification head for ``--num-classes`` classes and exits (no data needed).
"""
import dataclasses
import logging
import os
import sys

from pyspk.bin.options import format_config, parse_options, run_command, setup_logging
from pyspk.io.atomic import atomic_write
from pyspk.nnet.losses import head_options, load_loss
from pyspk.nnet.train import Trainer
from pyspk.nnet.train_options import TrainOptions
from pyspk.nnet.vgg import build_model, count_parameters

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options(TrainOptions):
    """Train a VGG speaker network (Yadav & Rai 2018) on spectrogram features."""
    print_params: bool = False          # print the parameter count and exit
    num_classes: int = 1251             # classes for --print-params (training takes them from the data)


def print_params(opts):
    model = build_model(opts.network, opts.ndims, opts.width, opts.dropout)
    head = load_loss(opts.loss, opts.num_classes, opts.ndims,
                     **head_options(opts.loss, opts.dropout, opts.margin, opts.scale))
    print(f"network {opts.network} (ndims {opts.ndims}, {opts.num_classes} classes, width {opts.width}, "
          f"{opts.loss} head): {count_parameters(model) + count_parameters(head)} parameters")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--print-params=true" in argv or "--print-params true" in " ".join(argv):
        print_params(parse_options(Options, argv)[0])
        return
    opts, pos = parse_options(Options, argv, positional=("train_data", "valid_data", "exp_dir"))
    train_opts = TrainOptions(**{f.name: getattr(opts, f.name) for f in dataclasses.fields(TrainOptions)})
    rank = int(os.environ.get("RANK", "0"))
    setup_logging(logging.INFO if rank == 0 else logging.WARNING)
    if rank == 0:
        with atomic_write(os.path.join(pos.exp_dir, "config")) as f:
            f.write(format_config(train_opts))
    accuracy, what = Trainer(train_opts, pos.train_data, pos.valid_data, pos.exp_dir).run()
    logger.info(f"final.pt: {what} ({accuracy:.2f}% validation top-1): {os.path.join(pos.exp_dir, 'final.pt')}")


if __name__ == "__main__":
    run_command(main)
