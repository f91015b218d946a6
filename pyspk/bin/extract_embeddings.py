"""Embed every utterance of a data dir with a trained network (the bottleneck, before its dropout):

    python -m pyspk.bin.extract_embeddings [--job J] <checkpoint> <data-dir> <xvector-dir>
        -> <xvector-dir>/xvector.J.ark and xvector.J.scp
    python -m pyspk.bin.extract_embeddings --speaker-means true <checkpoint> <data-dir> <xvector-dir>
        -> <xvector-dir>/spk_xvector.ark/.scp: per-speaker means (data-dir's utt2spk) of xvector.scp
"""
import dataclasses
import os
import time

from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.datadir import DataDir
from pyspk.device import pick_device
from pyspk.nnet.checkpoint import load_model_and_head
from pyspk.nnet.extract import extract_embeddings, write_speaker_means


@dataclasses.dataclass
class Options:
    """Extract bottleneck embeddings of a data dir's utterances to xvector.JOB.ark/scp."""
    job: int = 1                 # job number in the ark/scp names
    max_frames: int = 0          # padded frames per batch of similar lengths (0: 40000 on GPU, 1 on CPU)
    device: str = "auto"         # auto | cpu | cuda
    speaker_means: bool = False  # instead: write spk_xvector.{ark,scp} from xvector.scp


def main(argv=None):
    opts, pos = parse_options(Options, argv, positional=("checkpoint", "data_dir", "xvector_dir"))
    setup_logging()
    out = os.path.abspath(pos.xvector_dir)
    if opts.speaker_means:
        n = write_speaker_means(os.path.join(out, "xvector.scp"), os.path.join(pos.data_dir, "utt2spk"),
                                os.path.join(out, "spk_xvector.ark"), os.path.join(out, "spk_xvector.scp"))
        print(f"wrote {n} speaker means to {out}/spk_xvector.scp")
        return
    device = pick_device(opts.device)
    model, _, _ = load_model_and_head(pos.checkpoint, device)
    data = DataDir(pos.data_dir)
    start = time.perf_counter()
    n = extract_embeddings(model, pos.data_dir, data.utts, os.path.join(out, f"xvector.{opts.job}.ark"),
                           os.path.join(out, f"xvector.{opts.job}.scp"), device, opts.max_frames)
    seconds = time.perf_counter() - start
    print(f"embedded {n} of {len(data.utts)} utterances of {pos.data_dir} in {seconds:.1f} s on {device}")
    if n < len(data.utts):
        raise SystemExit(f"error: {len(data.utts) - n} utterance(s) could not be embedded (see above)")


if __name__ == "__main__":
    run_command(main)
