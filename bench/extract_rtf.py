"""Embedding extraction speed as a real-time factor (seconds of compute per second of audio).

    python bench/extract_rtf.py [--data DIR] [--width W] [--max-frames N ...]

Embeds every utterance of a spectrogram data dir (default: synthetic utterances of 2 to 12 s) with
an untrained Network B of the given width (the speed does not depend on the weights), once one
utterance per batch and once batched by similar length with each --max-frames budget, in the same
run, and prints the RTF of each and its speed-up over one-at-a-time. Audio seconds = frames / 100.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import torch

from pyspk.device import pick_device
from pyspk.io.datadir import DataDir
from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import read_map, write_table
from pyspk.nnet.extract import forward_utterances
from pyspk.nnet.vgg import build_model


def synthetic_data_dir(root, n_utts=48):
    rng = np.random.default_rng(0)
    utts = [f"spk{i % 8:02d}-u{i:04d}" for i in range(n_utts)]
    frames = {u: int(rng.integers(200, 1200)) for u in utts}
    with ArkScpWriter(f"{root}/feats.ark", f"{root}/feats.scp") as w:
        for u in utts:
            w.write(u, rng.normal(-5, 2, size=(frames[u], 161)).astype(np.float32))
    write_table(f"{root}/utt2spk", [[u, u.split("-")[0]] for u in utts])
    write_table(f"{root}/utt2num_frames", [[u, str(n)] for u, n in frames.items()])
    return root


def run(model, data, device, max_frames):
    utts = DataDir(data).utts
    start = time.perf_counter()
    n = sum(len(names) for names, _ in forward_utterances(model, data, utts, device, max_frames))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="spectrogram data dir; default synthetic")
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--max-frames", type=int, nargs="+", default=[8000, 40000])
    args = parser.parse_args()
    device = pick_device("auto")
    model = build_model("B", ndims=128, width=args.width)
    model.to(device, memory_format=torch.channels_last).eval()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or synthetic_data_dir(tmp)
        audio_s = sum(int(v) for v in read_map(f"{data}/utt2num_frames").values()) / 100.0
        run(model, data, device, 1)  # warm-up
        alone, n = run(model, data, device, 1)
        print(f"{n} utterances, {audio_s:.0f} s of audio, network B width {args.width}, {device}, "
              f"{torch.get_num_threads()} threads")
        print(f"one per batch:          RTF {alone / audio_s:.5f} ({audio_s / alone:.0f}x real time)")
        for max_frames in args.max_frames:
            seconds, _ = run(model, data, device, max_frames)
            print(f"batched <= {max_frames:6d} frames: RTF {seconds / audio_s:.5f} ({audio_s / seconds:.0f}x real time), "
                  f"{alone / seconds:.2f}x one-per-batch")


if __name__ == "__main__":
    main()
