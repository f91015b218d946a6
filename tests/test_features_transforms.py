"""Feature transforms against hand-written Kaldi-algorithm references."""
import numpy as np
import pytest

from pyspk.features.transforms import add_deltas, mean_variance_normalise, select_voiced, sliding_cmvn


def _feats(frames=57, dims=4, seed=0):
    return np.random.default_rng(seed).normal(3.0, 2.0, (frames, dims)).astype(np.float32)


def _kaldi_sliding_loop(x, window, norm_vars):
    """Frame-by-frame transcription of Kaldi's SlidingWindowCmnInternal with center=true."""
    x = x.astype(np.float64)
    n = len(x)
    out = np.zeros_like(x)
    for t in range(n):
        ws = t - window // 2
        we = ws + window
        if ws < 0:
            we -= ws
            ws = 0
        if we > n:
            ws -= we - n
            we = n
            ws = max(ws, 0)
        seg = x[ws:we]
        out[t] = x[t] - seg.mean(axis=0)
        if norm_vars:
            if len(seg) == 1:
                out[t] = 0.0
            else:
                var = np.maximum((seg ** 2).mean(axis=0) - seg.mean(axis=0) ** 2, 1e-10)
                out[t] /= np.sqrt(var)
    return out


@pytest.mark.parametrize("frames,window", [(57, 10), (57, 11), (57, 300), (1, 300), (400, 300)])
@pytest.mark.parametrize("norm_vars", [False, True])
def test_sliding_cmvn_matches_kaldi_loop(frames, window, norm_vars):
    x = _feats(frames)
    got = sliding_cmvn(x, window=window, norm_vars=norm_vars)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, _kaldi_sliding_loop(x, window, norm_vars), rtol=1e-5, atol=1e-5)


def test_sliding_cmvn_short_utterance_is_global_cmn():
    x = _feats(120)
    np.testing.assert_allclose(sliding_cmvn(x, window=300), x - x.mean(axis=0), atol=1e-5)


def test_add_deltas_kaldi_filters_and_edges():
    x = _feats(30, 3)
    got = add_deltas(x, order=2, window=2)
    assert got.shape == (30, 9) and got.dtype == np.float32
    np.testing.assert_array_equal(got[:, :3], x)
    # Kaldi's scales for window 2: [-2..2]/10, and their self-convolution /100 for the second order.
    d1 = np.array([-2, -1, 0, 1, 2]) / 10
    d2 = np.array([4, 4, 1, -4, -10, -4, 1, 4, 4]) / 100
    for t in (0, 1, 5, 28, 29):
        ref1 = sum(d1[j + 2] * x[min(max(t + j, 0), 29)] for j in range(-2, 3))
        ref2 = sum(d2[j + 4] * x[min(max(t + j, 0), 29)] for j in range(-4, 5))
        np.testing.assert_allclose(got[t, 3:6], ref1, atol=1e-5)
        np.testing.assert_allclose(got[t, 6:], ref2, atol=1e-5)


def test_add_deltas_of_a_ramp():
    ramp = np.arange(20, dtype=np.float32)[:, None] * 0.5
    got = add_deltas(ramp, order=1)
    np.testing.assert_allclose(got[2:-2, 1], 0.5, atol=1e-6)  # slope per frame in the interior


def test_mean_variance_normalise():
    x = _feats(200, 5)
    x[:, 2] = 7.0  # a constant bin is only mean-normalised
    y = mean_variance_normalise(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.delete(y.std(axis=0), 2), 1.0, atol=1e-4)
    np.testing.assert_array_equal(y[:, 2], 0.0)


def test_select_voiced():
    x = _feats(6, 2)
    vad = np.array([1, 0, 0, 1, 1, 0], dtype=np.float32)
    np.testing.assert_array_equal(select_voiced(x, vad), x[[0, 3, 4]])
    assert select_voiced(x, np.zeros(6)).shape == (0, 2)
    with pytest.raises(ValueError, match="6 feature frames but 5 VAD"):
        select_voiced(x, vad[:5])


def test_rejects_non_matrix():
    with pytest.raises(ValueError, match="shape"):
        sliding_cmvn(np.zeros(5))
