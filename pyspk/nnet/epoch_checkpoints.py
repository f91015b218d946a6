"""The checkpoints a training keeps in its exp dir after each epoch, and the choice of its final model.

- ``last.pt``: the full training state after the latest epoch (what ``--resume true`` continues from);
- ``final.pt``: the model of the epoch with the best validation top-1 so far, or, once the last epoch
  is done with ``average_last`` K > 0, the mean of the last K epochs' models;
- ``epoch_N.pt``: with K > 0 only, the model of each of the last K epochs (older ones are deleted).

Every file is written atomically by :func:`pyspk.nnet.checkpoint.save_checkpoint`.
"""
import logging
import os

from pyspk.nnet.averaging import average_states
from pyspk.nnet.checkpoint import load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)


class EpochCheckpoints:
    """``exp_dir``'s last.pt / final.pt / epoch_N.pt for a training that averages the last
    ``average_last`` epochs' models (0: final.pt is the best epoch's)."""

    def __init__(self, exp_dir, average_last):
        self.exp_dir, self.average_last = exp_dir, average_last
        self.last, self.final = os.path.join(exp_dir, "last.pt"), os.path.join(exp_dir, "final.pt")

    def _epoch_path(self, epoch):
        return os.path.join(self.exp_dir, f"epoch_{epoch}.pt")

    def save_epoch(self, epoch, improved, model_state, training_state):
        """After ``epoch`` (1-based): final.pt if its model improved on the best validation top-1,
        epoch_N.pt when averaging (deleting the one ``average_last`` epochs older), then last.pt.
        ``model_state``/``training_state``: checkpoint dicts without / with optimiser and RNG state."""
        if improved:
            save_checkpoint(self.final, model_state)
        if self.average_last > 0:
            save_checkpoint(self._epoch_path(epoch), model_state)
            stale = self._epoch_path(epoch - self.average_last)
            if os.path.exists(stale):
                os.unlink(stale)
        save_checkpoint(self.last, training_state)

    def average(self, epoch):
        """The mean of the saved models of the last ``average_last`` epochs up to ``epoch`` ->
        (epochs averaged, model state, loss state); epochs whose file is missing are named and left out."""
        first = max(1, epoch - self.average_last + 1)
        epochs = [e for e in range(first, epoch + 1) if os.path.exists(self._epoch_path(e))]
        if not epochs:
            raise FileNotFoundError(f"{self.exp_dir}: no epoch_N.pt of epochs {first}-{epoch} to average")
        if len(epochs) < epoch - first + 1:
            logger.warning(f"--average-last {self.average_last}: only epochs {epochs} were saved; averaging those")
        states = [load_checkpoint(self._epoch_path(e)) for e in epochs]
        return epochs, average_states([s["model"] for s in states]), average_states([s["loss"] for s in states])

    def save_average(self, model_state, epochs):
        """final.pt = ``model_state`` (the averaged model), recording the ``epochs`` it averages."""
        save_checkpoint(self.final, dict(model_state, averaged_epochs=epochs))
