"""Energy voice activity detection, as Kaldi's ``compute-vad`` (ivector/voice-activity-detection.cc).

A frame is voiced when, among the frames within ``frames_context`` of it (cut at the ends), at
least ``proportion_threshold`` of them have log energy (MFCC column 0, computed with use_energy)
above ``energy_threshold + energy_mean_scale * mean log energy of the utterance``.
Defaults are Kaldi's voxceleb/v1 ``conf/vad.conf``.
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class VadOptions:
    """Options of ``compute-vad`` (``--key=value`` lines in conf/vad.conf); Kaldi's names less ``vad-``."""
    vad_energy_threshold: float = 5.5
    vad_energy_mean_scale: float = 0.5
    vad_frames_context: int = 2
    vad_proportion_threshold: float = 0.12

    def check(self):
        if self.vad_energy_mean_scale < 0 or self.vad_frames_context < 0 \
                or not 0 < self.vad_proportion_threshold < 1:
            raise ValueError("vad options need energy-mean-scale >= 0, frames-context >= 0 and "
                             f"0 < proportion-threshold < 1, got {self}")


def compute_vad(feats, opts=VadOptions()):
    """feats: (frames, dims) with log energy in column 0 -> float32 (frames,) of 1.0 voiced / 0.0."""
    log_energy = np.asarray(feats, dtype=np.float32)[:, 0].astype(np.float64)
    if log_energy.shape[0] == 0:
        raise ValueError("compute_vad: no frames")
    threshold = opts.vad_energy_threshold + opts.vad_energy_mean_scale * log_energy.mean()
    above = np.concatenate([[0], np.cumsum(log_energy > threshold)])
    t = np.arange(log_energy.shape[0])
    lo = np.maximum(t - opts.vad_frames_context, 0)
    hi = np.minimum(t + opts.vad_frames_context + 1, log_energy.shape[0])
    voiced = (above[hi] - above[lo]) >= (hi - lo) * opts.vad_proportion_threshold
    return voiced.astype(np.float32)
