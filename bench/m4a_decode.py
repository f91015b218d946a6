"""Decoding VoxCeleb2's AAC .m4a: in-process PyAV (what the recipe does) against one ``ffmpeg``
process per file (the former ``ffmpeg ... - |`` wav.scp pipe), same files, same run.

    . ./path.sh && python bench/m4a_decode.py [--files 16] [--seconds 7.8] [--repeats 3]

Builds ``--files`` test files of ``--seconds`` each (VoxCeleb2 dev's mean utterance is 7.8 s) by
joining demo-corpus utterances and encoding them as AAC in MP4 with PyAV, then decodes each one
to 16 kHz mono float32 both ways (``pyspk.io.audio.load_audio`` on the path, and on the pipe
entry), best of ``--repeats`` passes, on one core. Prints wall and CPU time per file (CPU includes
the ffmpeg child processes; projections use it), the ratio, the largest sample difference between the two decodes,
and the projected decode time of VoxCeleb2 dev (1,092,009 utterances). Needs an ``ffmpeg`` binary
on PATH for the comparison (Debian: apt-get install ffmpeg); without one, PyAV alone is timed.
"""
import argparse
import glob
import os
import resource
import shutil
import tempfile
import time

import numpy as np
import soundfile

from pyspk.io.audio import load_audio, write_m4a

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOX2_DEV_UTTS = 1_092_009


def make_files(out_dir, count, seconds, corpus):
    """``count`` .m4a files of ``seconds`` s each, from consecutive demo utterances."""
    sources = sorted(glob.glob(os.path.join(corpus, "wav", "*", "*", "*.flac")))
    files, pos = [], 0
    for i in range(count):
        parts, n = [], 0
        while n < seconds * 16000:
            x, rate = soundfile.read(sources[pos % len(sources)], dtype="float32")
            assert rate == 16000, sources[pos % len(sources)]
            parts.append(x)
            n += len(x)
            pos += 1
        path = os.path.join(out_dir, f"{i:03d}.m4a")
        write_m4a(path, np.concatenate(parts)[:int(seconds * 16000)])
        files.append(path)
    return files


def cpu_seconds():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def time_decode(entries, repeats):
    """Best (wall s, CPU s) of ``repeats`` passes decoding every entry; and the last pass's samples."""
    best = None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), cpu_seconds()
        out = [load_audio(e)[0] for e in entries]
        result = (time.perf_counter() - wall, cpu_seconds() - cpu)
        best = result if best is None or result[0] < best[0] else best
    return best, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=7.8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--corpus", default=os.path.join(ROOT, "egs", "demo", "corpus"))
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(tmp, args.files, args.seconds, args.corpus)
        audio_s = args.files * args.seconds
        print(f"{args.files} files of {args.seconds} s AAC/MP4 ({sum(map(os.path.getsize, files)) / args.files / 1e3:.0f} kB "
              f"each), best of {args.repeats} passes, one core")
        (wall, cpu), pyav = time_decode(files, args.repeats)
        rows = [("PyAV in-process", wall, cpu)]
        if shutil.which("ffmpeg"):
            pipes = [f"ffmpeg -nostdin -loglevel error -i {f} -f wav -ar 16000 -ac 1 - |" for f in files]
            (f_wall, f_cpu), piped = time_decode(pipes, args.repeats)
            rows.append(("ffmpeg process per file", f_wall, f_cpu))
            diff = max(float(np.abs(a - b).max()) for a, b in zip(pyav, piped))
            lengths = {len(a) - len(b) for a, b in zip(pyav, piped)}
        else:
            print("no ffmpeg binary on PATH: PyAV timed alone")
        print(f"projection for VoxCeleb2 dev ({VOX2_DEV_UTTS:,} utterances) from the CPU time (the wall time of a "
              "shared machine includes waiting for a core)")
        for name, w, c in rows:
            hours = c / args.files * VOX2_DEV_UTTS / 3600
            print(f"{name:24s} {1e3 * w / args.files:7.2f} ms/file wall, {1e3 * c / args.files:7.2f} ms/file CPU, "
                  f"{audio_s / c:6.0f}x real time per core; VoxCeleb2 dev: {hours:6.2f} CPU-hours, "
                  f"{hours / 16 * 60:6.1f} min on 16 cores")
        if len(rows) == 2:
            print(f"ffmpeg / PyAV: {rows[1][1] / rows[0][1]:.2f}x wall, {rows[1][2] / rows[0][2]:.2f}x CPU; "
                  f"decodes differ by at most {diff:.2e} (int16 rounding of the pipe), length differences {sorted(lengths)}")


if __name__ == "__main__":
    main()
