"""The streaming driver behind every feature job: read one utterance, compute, append to the ark.

One job handles one part of a data dir (``<data>/split<N>/<JOB>``) and writes one ark/scp pair
atomically (``ArkScpWriter``), holding one utterance in memory at a time. An utterance that cannot
be used is logged as ``WARNING: skipping <utt> (<file>): <reason>`` and left out; a job ends with a
summary line. Whether the step as a whole has too many skips is decided after all jobs
(``combine_parts``), over the whole data dir.
"""
import logging
import os
import time

import numpy as np

from pyspk.io.audio import AudioError, entry_source, load_audio
from pyspk.io.kaldi_table import ArkScpWriter, KaldiTableError, concatenate_scps, read_entry
from pyspk.io.tables import read_table, sort_key, write_table

logger = logging.getLogger(__name__)


class StepError(RuntimeError):
    """A feature step that must fail (nothing usable, too many bad utterances)."""


class _Skip(Exception):
    """An utterance left out; str(self) is the reason."""


class JobStats:
    """Counts of one job, for its summary line."""

    def __init__(self):
        self.total = self.written = self.skipped = 0
        self.notes = {}
        self.audio_seconds = 0.0
        self.start = time.perf_counter()

    def summary(self, name):
        wall = time.perf_counter() - self.start
        notes = ", ".join(f"{n} {what}" for what, n in sorted(self.notes.items())) or "all audio used as stored"
        audio = (f"{self.audio_seconds:.1f} s of audio in {wall:.2f} s, {self.audio_seconds / wall:.0f}x real time"
                 if self.audio_seconds else f"{wall:.2f} s")
        return (f"{name}: {self.written} of {self.total} utterances written, {self.skipped} skipped "
                f"({notes}); {audio}")


def _write_all(items, load, compute, ark_path, scp_path, num_frames_path, name, compress=False):
    """Core loop: items of (utt, source); load(utt, source, stats) -> input; compute(utt, input) -> array."""
    stats = JobStats()
    frames = []
    with ArkScpWriter(ark_path, scp_path, compress=compress) as writer:
        for utt, source in items:
            stats.total += 1
            try:
                result = compute(utt, load(utt, source, stats))
                if not np.all(np.isfinite(result)):
                    raise _Skip("non-finite values in the output")
            except _Skip as e:
                stats.skipped += 1
                logger.warning(f"WARNING: skipping {utt} ({entry_source(source)}): {e}")
                continue
            writer.write(utt, result)
            stats.written += 1
            frames.append((utt, str(result.shape[0])))
    if num_frames_path:
        write_table(num_frames_path, frames)
    logger.info(stats.summary(name))
    return stats


def extract_audio_features(wav_scp, compute, ark_path, scp_path, rate, min_samples, num_frames_path=None,
                           name="compute-features", compress=False):
    """Features for every entry of a wav.scp file; ``compress``: Kaldi compressed matrices (``ArkScpWriter``).

    compute(utt, samples) -> float32 (frames, dims), given mono float32 samples at ``rate`` Hz and at
    least ``min_samples`` of them (shorter clips are skipped: less than one analysis window).
    Missing, empty, truncated and non-audio files are skipped; other rates are resampled and several
    channels averaged (counted in the summary). ``num_frames_path`` gets ``utt frames`` lines.
    """
    def load(utt, entry, stats):
        try:
            samples, notes = load_audio(entry, rate)
        except AudioError as e:
            raise _Skip(str(e).removeprefix(entry_source(entry) + ": ")) from None
        for note in notes:
            what = note.split(" ", 1)[0]
            stats.notes[what] = stats.notes.get(what, 0) + 1
        if samples.shape[0] < min_samples:
            raise _Skip(f"shorter than one window ({samples.shape[0]} samples < {min_samples} at {rate} Hz)")
        stats.audio_seconds += samples.shape[0] / rate
        return samples

    items = sorted(((r[0], " ".join(r[1:])) for r in read_table(wav_scp, min_cols=2)), key=lambda r: sort_key(r[0]))
    return _write_all(items, load, compute, ark_path, scp_path, num_frames_path, name, compress)


def transform_features(feats_scp, compute, ark_path, scp_path, name="compute-vad"):
    """compute(utt, feats) -> array for every entry of a feats.scp (e.g. VAD decisions from MFCCs).

    Entries that cannot be read are skipped with the reason.
    """
    def load(utt, value, stats):
        try:
            return read_entry(value, what=f"features of {utt}", key=utt)
        except KaldiTableError as e:
            raise _Skip(str(e)) from None

    items = [(r[0], r[1]) for r in read_table(feats_scp, min_cols=2, max_cols=2)]
    return _write_all(items, load, compute, ark_path, scp_path, None, name)


def combine_parts(data_dir, part_scps, out_name, max_bad_fraction=0.5, part_num_frames=()):
    """After all jobs succeeded: join the part scps into ``<data_dir>/<out_name>`` (atomically) and
    the part utt2num_frames into ``<data_dir>/utt2num_frames``.

    Raises StepError (writing nothing) when no utterance has an entry or more than
    ``max_bad_fraction`` of the data dir's utterances have none. Returns the number of entries.
    """
    total = len(read_table(os.path.join(data_dir, "utt2spk"), 2, 2))
    written = sum(len(read_table(p, 2, 2)) for p in part_scps)
    missing = total - written
    if written == 0:
        raise StepError(f"{data_dir}: no utterance produced {out_name} (see the job logs)")
    if missing > max_bad_fraction * total:
        raise StepError(f"{data_dir}: {missing} of {total} utterances skipped, more than "
                        f"--max-bad-fraction={max_bad_fraction} (see WARNING lines in the job logs)")
    if part_num_frames:
        rows = [row for p in part_num_frames for row in read_table(p, 2, 2)]
        write_table(os.path.join(data_dir, "utt2num_frames"), rows)
    n = concatenate_scps(part_scps, os.path.join(data_dir, out_name))
    logger.info(f"{data_dir}/{out_name}: {n} of {total} utterances ({missing} skipped)")
    return n
