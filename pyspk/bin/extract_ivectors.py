"""Extract i-vectors (posterior means of the total-variability factor) of a data dir's utterances.

    python -m pyspk.bin.extract_ivectors [options] <extractor> <data-dir> <ivector-ark> <ivector-scp>

Writes one float32 vector (R,) per usable utterance to the ark/scp (atomically); utterances without
usable frames are reported and skipped.
"""
import dataclasses
import sys

import torch

from pyspk.backend.frames import FrameOptions, FramesError, iter_frames
from pyspk.backend.gmm import GmmError
from pyspk.backend.ivector import IvectorComputer, IvectorError, IvectorExtractor, StatsComputer, batched_stats
from pyspk.bin.options import parse_options, run_command
from pyspk.io.kaldi_table import ArkScpWriter


@dataclasses.dataclass
class ExtractIvectorsConfig(FrameOptions):
    """Extract i-vectors."""

    top_c: int = 20
    batch_size: int = 64
    device: str = "auto"
    num_threads: int = 1


def main(argv=None):
    cfg, args = parse_options(ExtractIvectorsConfig, argv, positional=("extractor", "data_dir", "ark", "scp"))
    torch.set_num_threads(cfg.num_threads)
    try:
        model = IvectorExtractor.load(args.extractor)
        stats_of = StatsComputer(model.ubm, cfg.top_c, cfg.device)
        computer = IvectorComputer(model, cfg.device)
        with ArkScpWriter(args.ark, args.scp) as writer:
            for utts, batch in batched_stats(iter_frames(args.data_dir, cfg), stats_of, cfg.batch_size):
                w, _, _ = computer.posterior(batch)
                for utt, vec in zip(utts, w.cpu().numpy()):
                    writer.write(utt, vec)
    except (FramesError, GmmError, IvectorError) as e:
        sys.exit(f"error: {args.extractor} on {args.data_dir}: {e}")
    print(f"wrote {len(writer)} {model.ivector_dim}-dim i-vectors to {args.scp}")


if __name__ == "__main__":
    run_command(main)
