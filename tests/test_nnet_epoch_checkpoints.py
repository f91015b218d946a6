"""EpochCheckpoints: which epoch files a training keeps, what final.pt averages, and what happens when
an epoch's file is missing (a run interrupted and resumed with another --average-last, or a file
deleted by hand)."""
import logging

import pytest
import torch

from pyspk.nnet.checkpoint import load_checkpoint
from pyspk.nnet.epoch_checkpoints import EpochCheckpoints


def states(epoch):
    """The checkpoint dicts of ``epoch`` without / with the optimiser state (as the trainer passes them),
    their float weights the epoch number (so that a mean is checkable)."""
    model = {"conv.weight": torch.full((2, 3), float(epoch)), "bn.num_batches_tracked": torch.tensor(epoch)}
    loss = {"center.centers": torch.full((4, 2), 10.0 * epoch)}
    light = {"arch": {"config": "B"}, "objective": {"head": "softmax"}, "speakers": ["a", "b"],
             "model": model, "loss": loss, "epoch": epoch}
    return light, dict(light, optimizer={"step": epoch})


def test_keeps_the_last_k_epochs_and_averages_them(tmp_path):
    keeper = EpochCheckpoints(str(tmp_path), average_last=2)
    for epoch, improved in ((1, True), (2, False), (3, True), (4, False)):
        keeper.save_epoch(epoch, improved, *states(epoch))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_3.pt", "epoch_4.pt", "final.pt", "last.pt"]
    assert load_checkpoint(str(tmp_path / "final.pt"))["model"]["conv.weight"][0, 0] == 3.0  # the best epoch
    assert load_checkpoint(str(tmp_path / "last.pt"))["optimizer"] == {"step": 4}
    epochs, model, loss = keeper.average(4)
    assert epochs == [3, 4]
    torch.testing.assert_close(model["conv.weight"], torch.full((2, 3), 3.5))
    assert model["bn.num_batches_tracked"] == 4  # integers from the last epoch, not averaged
    torch.testing.assert_close(loss["center.centers"], torch.full((4, 2), 35.0))
    keeper.save_average(dict(states(4)[0], model=model, loss=loss), epochs)
    final = load_checkpoint(str(tmp_path / "final.pt"))
    assert final["averaged_epochs"] == [3, 4] and final["model"]["conv.weight"][0, 0] == 3.5


def test_a_missing_epoch_is_named_and_none_left_is_an_error(tmp_path, caplog):
    keeper = EpochCheckpoints(str(tmp_path), average_last=3)
    for epoch in (1, 2, 3):
        keeper.save_epoch(epoch, epoch == 1, *states(epoch))
    (tmp_path / "epoch_2.pt").unlink()
    with caplog.at_level(logging.WARNING):
        epochs, model, _ = keeper.average(3)
    assert epochs == [1, 3] and model["conv.weight"][0, 0] == 2.0
    assert "--average-last 3: only epochs [1, 3] were saved; averaging those" in caplog.text
    for epoch in (1, 3):
        (tmp_path / f"epoch_{epoch}.pt").unlink()
    with pytest.raises(FileNotFoundError, match=r"no epoch_N.pt of epochs 1-3 to average"):
        keeper.average(3)


def test_without_averaging_no_epoch_files_are_written(tmp_path):
    keeper = EpochCheckpoints(str(tmp_path), average_last=0)
    keeper.save_epoch(1, True, *states(1))
    keeper.save_epoch(2, False, *states(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.pt", "last.pt"]
