"""Data for the network: random fixed-length training crops and full-length inference batches.

Features are the stored log power spectrograms of a data dir's ``feats.scp``, (frames, bins) float32.
A training crop reads only its own rows of the archive (``pyspk.io.kaldi_table.read_rows``), so its
cost does not grow with the utterance. Every example the network sees is mean and variance normalised
on its own frames (the training crop, or the whole utterance at inference) by
``pyspk.features.transforms.mean_variance_normalise``. All training randomness (order, crop offsets,
noise) derives from (seed, epoch, position), so a run is reproducible and resumable whatever the
number of loader workers or GPUs. ``pyspk.nnet.audio_crops`` has the same crops read from the audio.
"""
import logging

import numpy as np
import torch

from pyspk.features.transforms import mean_variance_normalise
from pyspk.io.kaldi_table import KaldiTableError, read_entry, read_rows
from pyspk.io.tables import read_map

logger = logging.getLogger(__name__)

SHORT_POLICIES = ("error", "pad", "skip")


class FeatureError(ValueError):
    """A missing or unusable feature entry; the message names the file and the utterance."""


def read_feats_scp(data_dir, utts):
    """``utt -> scp value`` for ``utts`` from ``<data_dir>/feats.scp``; a missing one is an error."""
    path = f"{data_dir}/feats.scp"
    try:
        scp = read_map(path)
    except ValueError as e:
        raise FeatureError(str(e)) from None
    missing = [u for u in utts if u not in scp]
    if missing:
        raise FeatureError(f"{path}: no features for {len(missing)} utterance(s) of {data_dir}/utt2spk, "
                           f"e.g. {', '.join(missing[:3])}")
    return {u: scp[u] for u in utts}


def load_feats(scp_value, utt, scp_path):
    """Read one (frames, bins) float32 matrix; errors name the utterance and the scp."""
    feats = read_entry(scp_value, what=f"features of {utt} in {scp_path}", key=utt)
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise FeatureError(f"{scp_path}: {utt}: expected a (frames, bins) matrix, got shape {feats.shape}")
    return feats


def read_num_frames(data_dir, feats_scp):
    """``utt -> frames`` from ``utt2num_frames`` when present, else from every matrix's header."""
    path = f"{data_dir}/utt2num_frames"
    try:
        table = read_map(path)
        return {u: int(table[u]) for u in feats_scp}
    except (ValueError, KeyError):
        logger.info(f"{path} missing or incomplete: reading {len(feats_scp)} matrix headers for their lengths")
        return {u: read_rows(v, 0, 0, what=f"features of {u} in {data_dir}/feats.scp", key=u)[0]
                for u, v in feats_scp.items()}


def sample_rng(seed, epoch, position):
    """The numpy generator of one training example."""
    return np.random.default_rng(np.random.SeedSequence([seed, epoch, position]))


class PackedStrings:
    """A read-only sequence of str packed into one bytes buffer (``len``, ``[i]``, iteration).

    For a training set's utterance ids and scp values: loader processes forked from the trainer
    share its memory pages, which a list of a million str objects would copy one by one as their
    reference counts change (about 0.5 GB per process at VoxCeleb2's 1.09M utterances).
    """

    def __init__(self, strings):
        encoded = [s.encode("utf-8") for s in strings]
        self._ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        self._blob = b"".join(encoded)

    def __len__(self):
        return len(self._ends)

    def __getitem__(self, i):
        start = int(self._ends[i - 1]) if i else 0
        return self._blob[start:int(self._ends[i])].decode("utf-8")

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def select_utterances(utt2label, frames, crop_frames, short, source):
    """The sorted utterances to train on, by the short-utterance policy.

    frames: ``utt -> frames``; ``short``: what to do with an utterance shorter than the crop:
    "error", "pad" (repeated end to end up to the crop length) or "skip" (left out, logged).
    ``source`` (the table the lengths came from) names the utterances in messages.
    """
    if short not in SHORT_POLICIES:
        raise ValueError(f"short-utterance policy must be one of {SHORT_POLICIES}, not {short!r}")
    utts = sorted(utt2label)
    too_short = [u for u in utts if frames[u] < crop_frames]
    if too_short and short == "error":
        raise FeatureError(
            f"{source}: {len(too_short)} utterance(s) shorter than the {crop_frames}-frame crop, "
            f"e.g. {too_short[0]} ({frames[too_short[0]]} frames); use --short-utterances=pad or skip")
    for u in too_short:
        logger.info(f"{source}: {u}: {frames[u]} frames < crop {crop_frames}: "
                    f"{'repeated to the crop length' if short == 'pad' else 'skipped'}")
    if short == "skip":
        skip = set(too_short)
        utts = [u for u in utts if u not in skip]
    if not utts:
        raise FeatureError(f"{source}: no training utterances left")
    return utts


class TrainCrops(torch.utils.data.Dataset):
    """Random ``crop_frames`` crops of labelled utterances' stored features, noisy at random, then normalised.

    Items are indexed by ``(utterance index, epoch, position)`` as :class:`EpochBatchSampler` yields;
    each returns ``(crop (1, bins, crop_frames) float32 tensor, label int)``; only the crop's rows are
    read. ``short``: the policy of :func:`select_utterances`. ``noise``: a ``NoiseInjector`` or None.
    """

    def __init__(self, data_dir, utt2label, crop_frames=301, noise=None, seed=0, short="error"):
        self.scp_path = f"{data_dir}/feats.scp"
        scp = read_feats_scp(data_dir, sorted(utt2label))
        frames = read_num_frames(data_dir, scp)
        utts = select_utterances(utt2label, frames, crop_frames, short, self.scp_path)
        self.utts, self.scp = PackedStrings(utts), PackedStrings(scp[u] for u in utts)
        self.frames = np.array([frames[u] for u in utts], dtype=np.int64)
        self.labels = np.array([utt2label[u] for u in utts], dtype=np.int64)
        self.crop_frames, self.noise, self.seed = crop_frames, noise, seed

    def __len__(self):
        return len(self.utts)

    def front_end(self):
        """The module that turns a batch on the training device into the network's input (here: as is)."""
        return torch.nn.Identity()

    def __getitem__(self, item):
        index, epoch, position = item
        rng = sample_rng(self.seed, epoch, position)
        frames = int(self.frames[index])
        start = int(rng.integers(max(frames, self.crop_frames) - self.crop_frames + 1))
        if frames < self.crop_frames:
            feats = self._rows(index, 0, None)
            crop = np.resize(feats, (self.crop_frames, feats.shape[1]))
        else:
            crop = self._rows(index, start, self.crop_frames)
        if self.noise is not None:
            crop = self.noise(crop, rng)
        crop = mean_variance_normalise(crop)
        return torch.from_numpy(np.ascontiguousarray(crop.T))[None], int(self.labels[index])

    def _rows(self, index, start, count):
        utt = self.utts[index]
        try:
            rows, feats = read_rows(self.scp[index], start, count, f"features of {utt} in {self.scp_path}", utt)
        except KaldiTableError as e:
            raise FeatureError(str(e)) from None
        if rows != self.frames[index] or feats.shape[1] == 0:
            raise FeatureError(f"{self.scp_path}: {utt}: the stored matrix is {rows} x {feats.shape[1]}, "
                               f"utt2num_frames says {self.frames[index]} frames (stale utt2num_frames?)")
        return feats


class EpochBatchSampler(torch.utils.data.Sampler):
    """Shuffled batches of ``(index, epoch, position)`` for one epoch; the last partial batch is dropped.

    ``batch_size`` is the global batch: with DDP, rank r of w takes positions r::w of each batch.
    ``set_epoch(e)`` picks the epoch (the order is a function of seed and epoch only).
    """

    def __init__(self, n_items, batch_size, seed=0, rank=0, world_size=1):
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is not a multiple of {world_size} processes")
        if n_items < batch_size:
            raise ValueError(f"{n_items} training utterances are fewer than one batch of {batch_size}")
        self.n_items, self.batch_size, self.seed = n_items, batch_size, seed
        self.rank, self.world_size, self.epoch = rank, world_size, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.n_items // self.batch_size

    def __iter__(self):
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n_items)
        for b in range(len(self)):
            positions = range(b * self.batch_size + self.rank, (b + 1) * self.batch_size, self.world_size)
            yield [(int(order[p]), self.epoch, p) for p in positions]


def length_batches(lengths, max_frames):
    """Group indices of ``lengths`` (frames) into batches of similar length, longest first, each with
    at most ``max_frames`` padded frames in total (a longer utterance goes alone) -> list of lists."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches, current = [], []
    for i in order:
        if current and lengths[current[0]] * (len(current) + 1) > max_frames:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_batch(matrices):
    """Normalise (frames, bins) matrices and zero-pad them on time ->
    (x (batch, 1, bins, max_frames) float32, lengths (batch,) int64)."""
    lengths = [m.shape[0] for m in matrices]
    x = torch.zeros(len(matrices), 1, matrices[0].shape[1], max(lengths))
    for i, m in enumerate(matrices):
        x[i, 0, :, :m.shape[0]] = torch.from_numpy(mean_variance_normalise(m).T)
    return x, torch.tensor(lengths)
