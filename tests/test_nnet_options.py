"""The training options beyond the paper, one by one: learning-rate schedules, center-loss warm-up,
SpecAugment masks, checkpoint averaging, the resume policy, checkpoint checksums and RNG restore."""
import math

import pytest
import torch

from pyspk.nnet import checkpoint
from pyspk.nnet.augment import spec_augment
from pyspk.nnet.averaging import average_states
from pyspk.nnet.checkpoint import CheckpointError, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from pyspk.nnet.resume import resume_changes
from pyspk.nnet.schedule import center_loss_weight, learning_rate


def test_constant_schedule_with_linear_warmup():
    # 10 steps per epoch, warm-up of 0.5 epoch = 5 steps: 1/5 .. 5/5 of the rate, then flat
    rates = [learning_rate(s, 10, 3, 0.01, "constant", warmup_epochs=0.5) for s in range(30)]
    assert rates[:5] == pytest.approx([0.002, 0.004, 0.006, 0.008, 0.010])
    assert rates[5:] == pytest.approx([0.01] * 25)
    assert [learning_rate(s, 10, 3, 0.01) for s in (0, 29)] == [0.01, 0.01]


def test_cosine_schedule_reaches_the_floor_at_the_last_step():
    steps, epochs, warmup = 10, 4, 10
    rates = [learning_rate(s, steps, epochs, 0.01, "cosine", warmup_epochs=1, min_lr=0.001) for s in range(40)]
    assert rates[9] == pytest.approx(0.01)  # end of warm-up
    assert rates[10] == pytest.approx(0.01)  # cosine starts at the base rate
    for s in (10, 20, 25, 39):
        progress = (s - warmup) / (steps * epochs - warmup)
        assert rates[s] == pytest.approx(0.001 + 0.0045 * (1 + math.cos(math.pi * progress)))
    assert all(a >= b for a, b in zip(rates[10:], rates[11:]))
    assert learning_rate(40, steps, epochs, 0.01, "cosine", 1, 0.001) == pytest.approx(0.001)


def test_step_schedule_decays_every_n_epochs():
    rates = [learning_rate(s, 5, 6, 0.1, "step", decay_epochs=2, decay_factor=0.5) for s in range(30)]
    assert rates[0] == rates[9] == pytest.approx(0.1)
    assert rates[10] == rates[19] == pytest.approx(0.05)
    assert rates[20] == pytest.approx(0.025)
    assert learning_rate(100, 5, 6, 0.1, "step", min_lr=0.01, decay_epochs=2, decay_factor=0.1) == 0.01


def test_unknown_schedule():
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
        learning_rate(0, 10, 3, 0.01, "linear")


def test_center_loss_weight_warmup():
    assert [center_loss_weight(s, 4, 5.0, warmup_epochs=1) for s in range(6)] == [1.25, 2.5, 3.75, 5, 5, 5]
    assert center_loss_weight(0, 4, 5.0) == 5.0


def test_spec_augment_zeroes_whole_stripes_within_the_widths():
    torch.manual_seed(0)
    x = torch.randn(64, 1, 40, 50) + 10  # no zero anywhere before masking
    before = x.clone()
    y = spec_augment(x, freq_masks=1, freq_width=6, time_masks=2, time_width=4)
    assert torch.equal(x, before)  # the input is left as it was
    zero = y == 0
    for item in range(64):
        rows = zero[item, 0].all(dim=1)  # frequency bins zeroed over all frames
        cols = zero[item, 0].all(dim=0)  # frames zeroed over all bins
        # everything zero is a whole row or column; everything else is unchanged
        assert torch.equal(zero[item, 0], rows[:, None] | cols[None, :])
        kept = ~zero[item, 0]
        assert torch.equal(y[item, 0][kept], x[item, 0][kept])
        bins = rows.nonzero().flatten()
        assert len(bins) <= 6 and (len(bins) == 0 or bins[-1] - bins[0] + 1 == len(bins))  # one stripe
        assert cols.sum() <= 8  # two stripes of at most 4 frames
    assert zero.any(dim=(1, 3)).float().mean() > 0.3  # masks do happen
    widths = zero[:, 0].all(dim=2).sum(dim=1)
    assert set(widths.tolist()) == set(range(7))  # widths drawn uniformly from 0..6


def test_spec_augment_off_when_no_masks():
    x = torch.randn(3, 1, 10, 20)
    assert torch.equal(spec_augment(x, 0, 5, 0, 5), x)


def test_average_states_is_the_mean():
    states = [{"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)},
              {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(7)},
              {"w": torch.tensor([5.0, 1.0]), "n": torch.tensor(9)}]
    averaged = average_states(states)
    torch.testing.assert_close(averaged["w"], torch.tensor([3.0, 3.0]))
    assert averaged["n"].item() == 9 and averaged["w"].dtype == torch.float32
    with pytest.raises(ValueError, match="keys"):
        average_states([{"w": torch.zeros(1)}, {"v": torch.zeros(1)}])


PAPER = dict(network="B", ndims=128, width=1.0, loss="softmax", center_loss_weight=5.0, learning_rate=0.001,
             epochs=30, resume=False)


def test_resume_applies_the_learning_rate_and_names_it():
    changes = resume_changes("exp/last.pt", PAPER, dict(PAPER, learning_rate=0.003, epochs=40, resume=True))
    assert changes == {"learning_rate": [0.001, 0.003], "epochs": [30, 40]}
    # the same network written another way is no change of network
    assert resume_changes("exp/last.pt", PAPER, dict(PAPER, network="b", width=1)) == {"network": ["B", "b"]}


@pytest.mark.parametrize("key, new, message", [
    ("center_loss_weight", 0.0, "--center-loss-weight was 5.0, now 0.0"),
    ("loss", "aam_softmax", "--loss was 'softmax', now 'aam_softmax'"),
    ("network", "A", "--network was 'B', now 'A'"),
    ("ndims", 64, "--ndims was 128, now 64"),
])
def test_resume_refuses_what_does_not_fit_the_state(key, new, message):
    with pytest.raises(CheckpointError, match=f"exp/last.pt: cannot resume with changed options \\({message}\\)"):
        resume_changes("exp/last.pt", PAPER, dict(PAPER, **{key: new}))
    assert resume_changes("exp/last.pt", PAPER, dict(PAPER, center_loss_weight=3.0)) == {
        "center_loss_weight": [5.0, 3.0]}  # another positive lambda applies


def tiny_state():
    return {"arch": {}, "objective": {}, "speakers": ["a", "b"], "model": {"w": torch.arange(4000.0)},
            "loss": {}, "rng": rng_state()}


def test_checkpoint_with_flipped_bytes_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "final.pt"
    save_checkpoint(path, tiny_state())
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.arange(4000.0))
    data = path.read_bytes()
    for offset in (len(data) // 2, len(data) - 30, 200):
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        path.write_bytes(bytes(flipped))
        with pytest.raises(CheckpointError, match=f"{path}: corrupt checkpoint"):
            load_checkpoint(path)


def test_checkpoint_tensors_load_on_the_cpu_and_the_rng_restores(tmp_path):
    path = tmp_path / "last.pt"
    torch.manual_seed(5)
    save_checkpoint(path, tiny_state())
    expected = torch.rand(3)
    state = load_checkpoint(path)
    rng = state["rng"]["torch"]
    assert rng.device.type == "cpu" and rng.dtype == torch.uint8
    set_rng_state(state["rng"])
    assert torch.equal(torch.rand(3), expected)


def test_cuda_states_restored_only_for_the_devices_present(monkeypatch):
    """A run saved on 8 GPUs resumes on 1: only device 0's state is set (the old code indexed past it)."""
    state = rng_state()
    state["cuda"] = [torch.full((16,), i, dtype=torch.uint8) for i in range(8)]
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)

    def set_one(new_state, device="cuda"):
        if device not in (0, "cuda", "cuda:0"):
            raise RuntimeError(f"invalid device {device}: 1 device present")
        restored.append(new_state[0].item())

    monkeypatch.setattr(torch.cuda, "set_rng_state", set_one)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all",
                        lambda states: [set_one(s, i) for i, s in enumerate(states)])
    set_rng_state(state)
    assert restored == [0]


def test_checkpoint_module_loads_to_cpu_whatever_the_device(monkeypatch, tmp_path):
    """The resume crash on CUDA: a load mapped to the training device put the CPU RNG state there."""
    path = tmp_path / "last.pt"
    save_checkpoint(path, tiny_state())
    seen = []
    real_load = torch.load
    monkeypatch.setattr(checkpoint.torch, "load", lambda *a, **k: seen.append(k["map_location"]) or real_load(*a, **k))
    load_checkpoint(path)
    assert seen == ["cpu"]
