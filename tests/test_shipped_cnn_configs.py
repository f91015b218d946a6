"""The shipped CNN configs parse into TrainOptions, and their learning-rate schedules are the ones
their comments and docs/cnn_tuning.md describe."""
import pathlib

import pytest

from pyspk.bin.options import parse_options
from pyspk.nnet.schedule import options_learning_rate
from pyspk.nnet.train_options import TrainOptions

CONF = pathlib.Path(__file__).resolve().parent.parent / "conf"
CNN_CONFS = ["cnn_demo.conf", "cnn_demo_iden.conf", "cnn_cpu.conf", "network_a.conf", "network_b.conf"]


def load(name):
    opts, _ = parse_options(TrainOptions, ["--config", str(CONF / name)])
    return opts


def rate(opts, epoch, steps_per_epoch=70, last_step=False):
    """The rate of the first (or last) step of 1-based ``epoch``."""
    step = (epoch - 1) * steps_per_epoch + (steps_per_epoch - 1 if last_step else 0)
    return options_learning_rate(opts, step, steps_per_epoch)


@pytest.mark.parametrize("name", CNN_CONFS)
def test_every_shipped_cnn_config_parses(name):
    opts = load(name)
    assert opts.epochs > 0 and opts.learning_rate > 0


def test_demo_verification_rate_drops_tenfold_for_the_last_five_epochs():
    opts = load("cnn_demo.conf")
    assert opts.epochs == 30
    assert rate(opts, 1) == pytest.approx(0.003)
    assert rate(opts, 25, last_step=True) == pytest.approx(0.003)
    assert rate(opts, 26) == pytest.approx(0.0003)
    assert rate(opts, 30, last_step=True) == pytest.approx(0.0003)


@pytest.mark.parametrize("name", ["network_a.conf", "network_b.conf"])
def test_paper_configs_keep_the_constant_rate(name):
    opts = load(name)
    assert opts.lr_schedule == "constant"
    assert {rate(opts, e) for e in (1, opts.epochs)} == {opts.learning_rate}
