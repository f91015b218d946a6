"""Training throughput of the VGG networks and the data pipeline's overhead.

    python bench/train_throughput.py [--data DIR] [--steps N] [--configs demo,b] [--batch-size N]

For each network it times, in the same run: (1) ``compute``: forward + loss + backward + Adam step
(+ centre update) on one batch already in memory, and (2) ``end-to-end``: the training loop reading
random crops from feats.scp (load, crop, noise, normalisation, collation) through the DataLoader.
Overhead = end-to-end step time / compute step time - 1. On CUDA it also times Network B at batch
128 in fp32 and bf16, with peak memory and the fraction of the GPU's bf16 peak that the measured
rate implies (training ~ 3 x the forward FLOPs, counted by hooks on every conv and linear layer).
Without --data, synthetic spectrogram data dirs (random values, 400 frames, 161 bins) of --steps
batches are used; with --data, one epoch of it is timed.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import torch

from pyspk.io.kaldi_table import ArkScpWriter
from pyspk.io.tables import write_table
from pyspk.nnet.train import Trainer
from pyspk.nnet.train_options import TrainOptions

NETWORKS = {  # name -> options (the rest from TrainOptions' defaults)
    "demo": dict(network="B", width=0.125, batch_size=16, crop_frames=201),  # conf/cnn_demo.conf
    "demo_w25": dict(network="B", width=0.25, batch_size=16, crop_frames=201),  # the same at 1/4 width
    "a": dict(network="A", width=1.0, batch_size=8),
    "b": dict(network="B", width=1.0, batch_size=8),
}


def synthetic_data_dirs(root, n_utts, n_speakers=16, frames=400):
    """(train dir of n_utts, validation dir of one more utterance per speaker), random features."""
    rng = np.random.default_rng(0)
    dirs = []
    for name, utts in (("train", range(n_utts)), ("valid", range(n_utts, n_utts + n_speakers))):
        utts = [f"spk{i % n_speakers:03d}-u{i:05d}" for i in utts]
        path = os.path.join(root, name)
        with ArkScpWriter(f"{path}/feats.ark", f"{path}/feats.scp") as w:
            for u in utts:
                w.write(u, rng.normal(-5, 2, size=(frames, 161)).astype(np.float32))
        write_table(f"{path}/utt2spk", [[u, u.split("-")[0]] for u in utts])
        write_table(f"{path}/utt2num_frames", [[u, str(frames)] for u in utts])
        dirs.append(path)
    return dirs


def forward_flops(model, frames, device):
    """Multiply-adds x 2 of one (1, 1, 161, frames) forward pass, counted by hooks."""
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total[0] += 2 * output.numel() * k
        else:
            total[0] += 2 * output.numel() * module.in_features
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 1, 161, frames, device=device))
    for h in handles:
        h.remove()
    return total[0]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_compute(trainer, steps):
    """Seconds per step of train_step on one fixed batch (after one warm-up step)."""
    x, y = next(iter(trainer.loader))
    x, y = x.to(trainer.device, memory_format=torch.channels_last), y.to(trainer.device)
    trainer.net.train()
    trainer.train_step(x, y)
    sync(trainer.device)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(x, y)
    sync(trainer.device)
    return (time.perf_counter() - start) / steps


def time_end_to_end(trainer):
    """Seconds per step of one epoch of the real training loop."""
    sync(trainer.device)
    start = time.perf_counter()
    trainer.train_epoch()
    sync(trainer.device)
    return (time.perf_counter() - start) / len(trainer.sampler)


def measure(name, changes, train, valid, steps, workers, device, log):
    opts = TrainOptions(**{**NETWORKS.get(name, {}), **changes, "num_workers": workers, "device": device,
                           "log_every": 10 ** 9, "short_utterances": "pad"})
    with tempfile.TemporaryDirectory() as exp:
        trainer = Trainer(opts, train, valid, exp)
        if trainer.cuda:
            torch.cuda.reset_peak_memory_stats()
        compute = time_compute(trainer, steps)
        e2e = time_end_to_end(trainer)
        peak = torch.cuda.max_memory_allocated() / 2 ** 30 if trainer.cuda else float("nan")
        flops = forward_flops(trainer.model, opts.crop_frames, trainer.device)
    b = opts.batch_size
    log(f"{name:10s} net {opts.network} width {opts.width} batch {b} {opts.crop_frames} frames "
        f"{'bf16' if trainer.cuda and opts.bf16 else 'fp32'}: compute {b / compute:8.1f} samples/s, "
        f"end-to-end {b / e2e:8.1f} samples/s, pipeline overhead {100 * (e2e / compute - 1):+.1f}%"
        + (f", peak memory {peak:.1f} GiB" if trainer.cuda else "")
        + f", forward {flops / 1e9:.2f} GFLOP/sample")
    return b / e2e, flops


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="training data dir (feats.scp, utt2spk); default synthetic")
    parser.add_argument("--valid", help="validation data dir of --data's speakers (needed with --data)")
    parser.add_argument("--steps", type=int, default=6, help="steps per measurement")
    parser.add_argument("--configs", default="demo,b", help=f"comma list of {', '.join(NETWORKS)}")
    parser.add_argument("--workers", type=int, default=None, help="loader workers (default: 0 on CPU, 8 on CUDA)")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="GPU dense bf16 peak (H100 SXM: 989)")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    workers = args.workers if args.workers is not None else (8 if cuda else 0)
    device = "cuda" if cuda else "cpu"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device "
          f"{torch.cuda.get_device_name() if cuda else 'cpu'}, loader workers {workers}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(name, {}) for name in args.configs.split(",")]
        if cuda:
            runs = [("b-fp32", dict(network="B", batch_size=128, bf16=False)),
                    ("b-bf16", dict(network="B", batch_size=128, bf16=True))] + runs
        for name, changes in runs:
            batch = TrainOptions(**{**NETWORKS.get(name, {}), **changes}).batch_size
            train, valid = ((args.data, args.valid) if args.data
                            else synthetic_data_dirs(os.path.join(tmp, name), batch * args.steps))
            rate, flops = measure(name, changes, train, valid, args.steps, workers, device, print)
            if cuda and name.startswith("b-"):
                achieved = rate * 3 * flops / 1e12
                print(f"{'':10s} implies {achieved:.0f} TFLOP/s = {100 * achieved / args.peak_tflops:.1f}% "
                      f"of {args.peak_tflops:.0f} TFLOP/s bf16 peak")


if __name__ == "__main__":
    main()
