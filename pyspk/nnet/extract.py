"""Full-length inference: batches of similar-length utterances through the network.

Used for embeddings (the bottleneck before its dropout), identification and validation (the loss's
classifier head on these embeddings, ``pyspk.nnet.identify``). Utterances are
normalised on their own frames, zero-padded to the longest of their batch and masked (see ``vgg``), so
an utterance's output does not depend on the batch it is in. Inference runs in float32.
"""
import logging

import numpy as np
import torch

from pyspk.io.kaldi_table import ArkScpWriter, KaldiTableError, load_scp
from pyspk.io.tables import read_map
from pyspk.nnet.data import FeatureError, length_batches, load_feats, pad_batch, read_feats_scp, read_num_frames

logger = logging.getLogger(__name__)


def _load_for_inference(data_dir, utt, scp_value, min_frames):
    """(frames, bins) features, repeated up to ``min_frames`` if shorter; None (logged) if unreadable."""
    try:
        feats = load_feats(scp_value, utt, f"{data_dir}/feats.scp")
    except (FeatureError, KaldiTableError) as e:
        logger.warning(f"skipping {utt}: {e}")
        return None
    if feats.shape[0] < min_frames:
        logger.info(f"{data_dir}/feats.scp: {utt}: {feats.shape[0]} frames < {min_frames}: repeated to {min_frames}")
        feats = np.resize(feats, (min_frames, feats.shape[1]))
    return feats


GPU_MAX_FRAMES = 40000  # padded frames per batch on a GPU


def batch_frames(max_frames, device):
    """``max_frames`` > 0 as given; 0 = automatic: GPU_MAX_FRAMES on CUDA, one utterance per batch on
    CPU (where batching does not pay: 0.4x to 0.8x the speed, bench/extract_rtf.py)."""
    return max_frames if max_frames > 0 else (GPU_MAX_FRAMES if device.type == "cuda" else 1)


@torch.no_grad()
def forward_utterances(model, data_dir, utts, device, max_frames=0):
    """Yield ``(utts, embeddings (n, ndims) float32 tensor on device)`` per batch, for every readable
    utterance of ``utts`` in ``data_dir``; ``max_frames`` bounds a batch's padded frames
    (0: see :func:`batch_frames`)."""
    max_frames = batch_frames(max_frames, device)
    scp = read_feats_scp(data_dir, utts)
    lengths = read_num_frames(data_dir, scp)
    keys = list(scp)
    for batch in length_batches([max(lengths[k], model.min_frames) for k in keys], max_frames):
        names, mats = [], []
        for i in batch:
            feats = _load_for_inference(data_dir, keys[i], scp[keys[i]], model.min_frames)
            if feats is not None:
                names.append(keys[i])
                mats.append(feats)
        if not names:
            continue
        x, frames = pad_batch(mats)
        x = x.to(device, non_blocking=True, memory_format=torch.channels_last)
        yield names, model(x, frames).float()


def extract_embeddings(model, data_dir, utts, ark_path, scp_path, device, max_frames=0):
    """Write the bottleneck embedding of each utterance to ``ark_path``/``scp_path`` -> count written."""
    with ArkScpWriter(ark_path, scp_path) as writer:
        for names, embeddings in forward_utterances(model, data_dir, utts, device, max_frames):
            for name, vector in zip(names, embeddings.cpu().numpy()):
                writer.write(name, vector)
        return len(writer)


def write_speaker_means(xvector_scp, utt2spk_path, ark_path, scp_path):
    """Mean embedding per speaker of ``utt2spk`` over the utterances in ``xvector_scp`` -> speakers written."""
    vectors = load_scp(xvector_scp)
    spk2vecs = {}
    for utt, spk in read_map(utt2spk_path).items():
        if utt in vectors:
            spk2vecs.setdefault(spk, []).append(vectors[utt])
    with ArkScpWriter(ark_path, scp_path) as writer:
        for spk in sorted(spk2vecs):
            writer.write(spk, np.mean(spk2vecs[spk], axis=0))
        return len(writer)
