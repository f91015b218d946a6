"""Feature extraction throughput: the real step against the bare decode + STFT floor, same files, same run.

    python bench/feature_throughput.py [--corpus egs/demo/corpus] [--nj 2] [--kind spec|mfcc]

1. Stage 0 on the corpus (not timed).
2. Floor: decode every file of wav.scp with soundfile and take its STFT power (numpy rfft of the
   same frames, as the step does), nothing else: no resampling checks, no log, no archive, no process start-up.
   Timed in one process (one core) and split over ``--nj`` processes (the parallel floor).
3. The real step, ``steps/make_spectrogram.sh --nj N`` (or make_mfcc.sh), wall clock from the
   shell: validation, split, N jobs (start-up, decode, features, ark writing), combining scps.

Prints utterances/s, frames/s, x real time per core, and the step's time as a ratio to the floors,
in wall-clock time and in CPU time (the latter stays meaningful on a machine shared with other work).
"""
import argparse
import glob
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool

import numpy as np
import soundfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from pyspk.io.tables import read_map


def bare_decode_stft(paths):
    """Decode each file and take |rfft|^2 of its centred 320-sample frames, hop 160 -> total frames."""
    window = np.hamming(321)[:-1].astype(np.float32)
    frames = 0
    for path in paths:
        x, _ = soundfile.read(path, dtype="float32")
        padded = np.pad(x, 160)
        spec = np.fft.rfft(np.lib.stride_tricks.sliding_window_view(padded, 320)[::160] * window, axis=1)
        frames += (spec.real ** 2 + spec.imag ** 2).shape[0]
    return frames


def children_cpu():
    """CPU seconds (user + system) used so far by finished child processes and their children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def shell(*args):
    out = subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{out.stdout}{out.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(ROOT, "egs/demo/corpus"))
    parser.add_argument("--nj", type=int, default=2)
    parser.add_argument("--kind", choices=("spec", "mfcc"), default="spec")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        shell("local/prepare_voxceleb1.sh", args.corpus, f"{tmp}/data")
        wav = read_map(f"{tmp}/data/all/wav.scp")
        paths = list(wav.values())
        audio_seconds = sum(soundfile.info(p).duration for p in paths)

        bare_decode_stft(paths[:5])  # warm the page cache and numpy
        t, cpu = time.perf_counter(), time.process_time()
        frames = bare_decode_stft(paths)
        floor_1, floor_cpu = time.perf_counter() - t, time.process_time() - cpu
        chunks = [paths[i::args.nj] for i in range(args.nj)]
        with Pool(args.nj) as pool:
            t = time.perf_counter()
            pool.map(bare_decode_stft, chunks)
            floor_n = time.perf_counter() - t

        step = {"spec": ("steps/make_spectrogram.sh", "--spectrogram-config", "conf/spectrogram.conf"),
                "mfcc": ("steps/make_mfcc.sh", "--mfcc-config", "conf/mfcc.conf")}[args.kind]
        t, cpu = time.perf_counter(), children_cpu()
        shell(step[0], "--nj", str(args.nj), step[1], step[2], f"{tmp}/data/all", f"{tmp}/exp", f"{tmp}/feats")
        step_time, step_cpu = time.perf_counter() - t, children_cpu() - cpu
        written = len(read_map(f"{tmp}/data/all/feats.scp"))
        job_loops = [float(m) for log in glob.glob(f"{tmp}/exp/log/*.log")
                     for m in re.findall(r"utterances written.* in ([0-9.]+) s", open(log).read())]

    print(f"corpus: {args.corpus}: {len(paths)} utterances, {audio_seconds:.1f} s of audio, {frames} frames")
    print(f"bare decode+STFT, 1 process:   {floor_1:6.2f} s  {len(paths) / floor_1:8.1f} utt/s  "
          f"{audio_seconds / floor_1:7.0f}x real time per core")
    print(f"bare decode+STFT, {args.nj} processes: {floor_n:6.2f} s  {len(paths) / floor_n:8.1f} utt/s")
    print(f"{step[0]} --nj {args.nj}: {step_time:6.2f} s  {written / step_time:8.1f} utt/s  "
          f"{frames / step_time:9.0f} frames/s  {audio_seconds / (step_time * args.nj):7.0f}x real time per core "
          f"(end to end, {written} utterances written)")
    print(f"ratio step / parallel floor: {step_time / floor_n:.2f}  "
          f"(step / ideal floor = 1-process floor / {args.nj}: {step_time * args.nj / floor_1:.2f})")
    print(f"inside the jobs: slowest job's loop {max(job_loops):.2f} s (ratio to the parallel floor "
          f"{max(job_loops) / floor_n:.2f}); the rest, {step_time - max(job_loops):.2f} s, is fixed per step "
          f"(shell, validation, split, {args.nj} interpreter start-ups, combining the scps)")
    print(f"CPU time (robust to other load on the machine): floor {floor_cpu:.2f} s, step {step_cpu:.2f} s, "
          f"ratio {step_cpu / floor_cpu:.2f}; step {audio_seconds / step_cpu:.0f}x real time per CPU second")


if __name__ == "__main__":
    main()
