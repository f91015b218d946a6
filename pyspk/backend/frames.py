"""The MFCC frames the GMM-UBM and i-vector baselines see, Kaldi voxceleb/v1 style: raw MFCC from
``feats.scp`` -> add-deltas (optional) -> sliding CMVN (means only) -> voiced frames from ``vad.scp``.

A bad utterance (no VAD entry, no voiced frames, unreadable) is logged as
``WARNING: skipping <utt> (<file>): <reason>`` and skipped; a data dir with nothing usable is an error.
"""
import dataclasses
import logging
import os

import numpy as np

from pyspk.features.transforms import add_deltas, select_voiced, sliding_cmvn
from pyspk.io.kaldi_table import KaldiTableError, read_entry
from pyspk.io.tables import read_map

logger = logging.getLogger(__name__)


class FramesError(ValueError):
    """A data dir whose features cannot be used at all; the message names the file."""


@dataclasses.dataclass
class FrameOptions:
    """How raw MFCC (frames, 13) become model frames (voiced_frames, 13 or 39)."""

    add_deltas: bool = True
    cmvn_window: int = 300
    use_vad: bool = True


def process_frames(feats, vad, opts):
    """Raw (frames, dims) MFCC and (frames,) VAD -> (voiced_frames, dims') float32, possibly 0 rows."""
    x = add_deltas(feats) if opts.add_deltas else feats
    x = sliding_cmvn(x, window=opts.cmvn_window, norm_vars=False)
    return select_voiced(x, vad) if opts.use_vad else x


def iter_frames(data_dir, opts, utts=None):
    """Yield ``(utt, frames)`` for the utterances of ``data_dir`` (or just ``utts``, in that order),
    frames (voiced_frames, dims) float32 with at least one row. Bad utterances are logged and skipped;
    a summary line is logged at the end, and if nothing was usable FramesError is raised."""
    feats_path = os.path.join(data_dir, "feats.scp")
    vad_path = os.path.join(data_dir, "vad.scp")
    for path in [feats_path] + ([vad_path] if opts.use_vad else []):
        if not os.path.isfile(path):
            raise FramesError(f"{path}: missing (run the MFCC and VAD stages first)")
    feats_scp = read_map(feats_path)
    vad_scp = read_map(vad_path) if opts.use_vad else {}
    wanted = sorted(feats_scp) if utts is None else list(utts)
    good = bad = 0
    for utt in wanted:
        reason, where = None, feats_path
        if utt not in feats_scp:
            reason = "no entry in feats.scp"
        elif opts.use_vad and utt not in vad_scp:
            reason, where = "no entry in vad.scp", vad_path
        else:
            try:
                feats = read_entry(feats_scp[utt], f"features of {utt}", key=utt)
                vad = read_entry(vad_scp[utt], f"VAD of {utt}", key=utt) if opts.use_vad else None
                frames = process_frames(feats, vad, opts)
                if frames.shape[0] == 0:
                    reason, where = "no voiced frames", vad_path
            except (KaldiTableError, ValueError) as e:
                reason = str(e)
        if reason is not None:
            bad += 1
            logger.warning(f"WARNING: skipping {utt} ({where}): {reason}")
            continue
        good += 1
        yield utt, frames
    logger.info(f"{data_dir}: used {good} utterances, skipped {bad}")
    if good == 0:
        raise FramesError(f"{data_dir}: no usable utterance (all {bad} skipped; see the warnings above)")


def frame_blocks(utt_frames, block_frames=16384):
    """(utt, frames) pairs -> (frames, dims) blocks of consecutive utterances' frames, each of at least
    ``block_frames`` rows but the last (one large product is much faster than many small ones)."""
    pending, count = [], 0
    for _, frames in utt_frames:
        pending.append(frames)
        count += frames.shape[0]
        if count >= block_frames:
            yield np.concatenate(pending)
            pending, count = [], 0
    if pending:
        yield np.concatenate(pending)
