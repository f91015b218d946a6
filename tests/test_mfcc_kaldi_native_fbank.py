"""pyspk's MFCC against a second implementation of Kaldi's compute-mfcc-feats: kaldi-native-fbank (the
k2-fsa C++ port, no torch), on real demo utterances, same options, no dither."""
import dataclasses
import glob
import os

import kaldi_native_fbank as knf
import numpy as np
import pytest

from conftest import DEMO_WAV
from pyspk.features.mfcc import MfccOptions, compute_mfcc
from pyspk.io.audio import load_audio

WAVS = sorted(glob.glob(f"{DEMO_WAV}/*/*/*.flac"))[:4]


def reference_mfcc(samples, opts):
    """kaldi-native-fbank's MFCC of float samples in [-1, 1] (scaled to 16-bit, as Kaldi reads wavs)."""
    o = knf.MfccOptions()
    o.frame_opts.samp_freq = opts.sample_frequency
    o.frame_opts.frame_length_ms = opts.frame_length
    o.frame_opts.frame_shift_ms = opts.frame_shift
    o.frame_opts.dither = 0.0
    o.frame_opts.preemph_coeff = opts.preemphasis_coefficient
    o.frame_opts.remove_dc_offset = opts.remove_dc_offset
    o.frame_opts.window_type = opts.window_type
    o.frame_opts.snip_edges = opts.snip_edges
    o.mel_opts.num_bins = opts.num_mel_bins
    o.mel_opts.low_freq = opts.low_freq
    o.mel_opts.high_freq = opts.high_freq
    o.num_ceps = opts.num_ceps
    o.cepstral_lifter = opts.cepstral_lifter
    o.use_energy = opts.use_energy
    mfcc = knf.OnlineMfcc(o)
    mfcc.accept_waveform(opts.sample_frequency, (samples * 32768).astype(np.float32).tolist())
    mfcc.input_finished()
    return np.stack([mfcc.get_frame(i) for i in range(mfcc.num_frames_ready)])


@pytest.mark.parametrize("wav", WAVS, ids=os.path.basename)
def test_mfcc_matches_kaldi_native_fbank_to_float32_rounding(wav):
    opts = dataclasses.replace(MfccOptions(), dither=0.0)   # conf/mfcc.conf's options otherwise
    samples = load_audio(wav)[0]
    ours, ref = compute_mfcc(samples, opts), reference_mfcc(samples, opts)
    assert ours.shape == ref.shape
    assert np.abs(ref).max() > 30      # real speech: c0 is a log energy of tens of nats
    np.testing.assert_allclose(ours, ref, rtol=0, atol=5e-3)   # ~1e-3 at most, in the quietest frames
    # relative to each coefficient's range, the difference is float32 rounding
    assert np.max(np.abs(ours - ref) / (np.abs(ref).max(axis=0) + 1)) < 2e-4


def test_the_comparison_can_fail():
    """A different filterbank (another --num-mel-bins) is far outside the tolerance above."""
    samples = load_audio(WAVS[0])[0]
    opts = dataclasses.replace(MfccOptions(), dither=0.0)
    other = reference_mfcc(samples, dataclasses.replace(opts, num_mel_bins=30))
    assert np.abs(compute_mfcc(samples, opts) - other).max() > 0.1
