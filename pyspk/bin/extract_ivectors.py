"""Extract i-vectors (posterior means of the total-variability factor) of a data dir's utterances.

    python -m pyspk.bin.extract_ivectors [options] <extractor> <data-dir> <ivector-ark> <ivector-scp>

Writes one float32 vector (R,) per usable utterance to the ark/scp (atomically); utterances without
usable frames are reported and skipped.
"""
import dataclasses
import logging

import torch

from pyspk.backend.baum_welch import StatsComputer, batched_stats
from pyspk.backend.frames import FrameOptions, iter_frames
from pyspk.backend.ivector import IvectorComputer, IvectorExtractor
from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.kaldi_table import ArkScpWriter

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options(FrameOptions):
    """Extract i-vectors."""

    top_c: int = 20
    batch_size: int = 64
    device: str = "auto"
    num_threads: int = 1


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=("extractor", "data_dir", "ark", "scp"))
    torch.set_num_threads(opts.num_threads)
    model = IvectorExtractor.load(args.extractor)
    stats_of = StatsComputer(model.ubm, opts.top_c, opts.device)
    computer = IvectorComputer(model, opts.device)
    with ArkScpWriter(args.ark, args.scp) as writer:
        for utts, batch in batched_stats(iter_frames(args.data_dir, opts), stats_of, opts.batch_size):
            w, _, _ = computer.posterior(batch)
            for utt, vec in zip(utts, w.cpu().numpy()):
                writer.write(utt, vec)
    logger.info(f"wrote {len(writer)} {model.ivector_dim}-dim i-vectors to {args.scp}")


if __name__ == "__main__":
    run_command(main)
