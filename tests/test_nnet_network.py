"""The paper's networks and losses: sizes, shapes, length masking, center loss and margins by hand."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pyspk.nnet.losses import JointLoss, load_loss
from pyspk.nnet.vgg import build_model, count_parameters, min_frames


@pytest.mark.parametrize("config, expected", [("A", 9_449_123), ("B", 9_633_827)])
def test_parameter_counts_match_the_paper(config, expected):
    # Yadav & Rai (2018): 9.449 M (A) and 9.634 M (B) with ndims 128 and 1,251 classes, BatchNorm
    # counted: the trunk and bottleneck of the network plus the softmax loss's classifier.
    trunk = count_parameters(build_model(config, ndims=128))
    head = count_parameters(load_loss("softmax", 1251, 128))
    assert head == 128 * 1251 + 1251 and trunk + head == expected


def test_print_params_command(capsys):
    from pyspk.bin.train_cnn import main
    main(["--print-params=true", "--network=B"])
    assert "9633827 parameters" in capsys.readouterr().out


@pytest.mark.parametrize("frames", [301, 157, 1001, 33])
def test_output_shapes_for_any_length(frames):
    model = build_model("B", ndims=16, width=0.125).eval()
    embedding = model(torch.randn(2, 1, 161, frames))
    assert embedding.shape == (2, 16) and load_loss("softmax", 7, 16).logits(embedding).shape == (2, 7)


def test_too_short_input_is_a_clear_error():
    model = build_model("A", ndims=8, width=0.125)
    assert min_frames("A") == 33
    with pytest.raises(ValueError, match="32 frames; network A needs >= 33"):
        model(torch.randn(1, 1, 161, 32))


def test_width_scales_channels():
    narrow = build_model("B", ndims=32, width=0.25)
    convs = [m.out_channels for m in narrow.features if isinstance(m, torch.nn.Conv2d)]
    assert convs == [16, 16, 32, 32, 64, 64, 128, 128, 128, 128]


def test_padded_batch_equals_each_utterance_alone():
    torch.manual_seed(0)
    model = build_model("B", ndims=8, width=0.125).eval()
    for m in model.modules():  # non-trivial BatchNorm statistics, so padding would show if unmasked
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    lengths = [157, 301, 64]
    utts = [torch.randn(1, 1, 161, n) for n in lengths]
    batch = torch.zeros(3, 1, 161, 301)
    for i, u in enumerate(utts):
        batch[i, :, :, :u.shape[-1]] = u
    with torch.no_grad():
        together = model(batch, torch.tensor(lengths))
        alone = torch.cat([model(u) for u in utts])
        unmasked = model(batch)
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(unmasked[0], alone[0], atol=1e-3)


def test_center_loss_value_gradient_and_update_by_hand():
    loss = load_loss("center_loss", n_classes=3, ndims=2, rate=0.5)
    loss.centers.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0]]))
    x = torch.tensor([[1.0, 2.0], [0.0, 1.0], [3.0, 3.0]], requires_grad=True)
    y = torch.tensor([0, 1, 0])
    value = loss(x, y)
    # 1/(2 m d) sum ||x_i - c_yi||^2 = (5 + 1 + 18) / (2 * 3 * 2)
    assert value.item() == pytest.approx(2.0)
    value.backward()
    # d/dx_i = (x_i - c_yi) / (m d)
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 6, 1 / 3], [-1 / 6, 0.0], [0.5, 0.5]], rtol=1e-6)
    loss.update(x.detach(), y)
    # class 0: delta = ((0-1) + (0-3), (0-2) + (0-3)) / (1 + 2) = (-4/3, -5/3); c <- c - 0.5 delta
    # class 1: delta = ((1-0), (1-1)) / 2 = (0.5, 0); class 2 unseen: unchanged
    np.testing.assert_allclose(loss.centers.numpy(), [[2 / 3, 5 / 6], [0.75, 1.0], [2.0, -1.0]], rtol=1e-6)


def test_normalised_center_loss_compares_directions_by_hand():
    loss = load_loss("center_loss", n_classes=2, ndims=2, rate=0.5, normalize=True)
    loss.centers.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[3.0, 4.0], [0.0, 2.0], [-1.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 1, 0])
    value = loss(x, y)
    # unit vectors (0.6, 0.8), (0, 1), (-1, 0): 1/(2 m) sum ||x_i/|x_i| - c_yi||^2 = (0.8 + 0 + 4) / 6
    assert value.item() == pytest.approx(0.8)
    assert loss(5 * x, y).item() == pytest.approx(0.8)  # blind to the embeddings' lengths ...
    value.backward()
    np.testing.assert_allclose((x.grad * x).sum(dim=1).detach().numpy(), 0.0, atol=1e-6)  # ... so no radial pull
    assert x.grad[0].abs().sum() > 0
    loss.update(x.detach(), y)
    # class 0: delta = ((1-0.6) + (1+1), (0-0.8) + 0) / 3 = (0.8, -0.8/3); c <- c - 0.5 delta; class 1: at its point
    np.testing.assert_allclose(loss.centers.numpy(), [[0.6, 0.4 / 3], [0.0, 1.0]], rtol=1e-6)
    assert JointLoss(2, 2, center_loss_weight=1, center_loss_normalize=True).center.normalize


def test_joint_loss_weight_zero_is_plain_softmax():
    torch.manual_seed(1)
    emb, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 0, 1])
    softmax_only = JointLoss(4, 3, center_loss_weight=0).eval()  # eval: the head's dropout off
    total, terms, logits = softmax_only(emb, y)
    assert softmax_only.center is None and set(terms) == {"head"}
    assert torch.equal(logits, softmax_only.head.classifier(emb))
    assert total.item() == pytest.approx(F.cross_entropy(logits, y).item())
    joint = JointLoss(4, 3, center_loss_weight=5).eval()
    total, _, logits = joint(emb, y)
    expected = F.cross_entropy(logits, y) + 5 * 0.5 * emb.pow(2).sum() / (6 * 3)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    total, _, _ = joint(emb, y, center_weight=1.0)  # a warm-up step's lambda
    expected = F.cross_entropy(logits, y) + 0.5 * emb.pow(2).sum() / (6 * 3)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("name", ["am_softmax", "aam_softmax"])
def test_margin_logits_shift_only_the_target_class(name):
    torch.manual_seed(2)
    head = load_loss(name, n_classes=5, ndims=8, margin=0.2, scale=30.0)
    emb, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    plain = head.logits(emb)
    cosine = F.normalize(emb) @ F.normalize(head.weight).T
    torch.testing.assert_close(plain, 30 * cosine)
    margin = head.margin_logits(emb, y)
    others = torch.ones_like(plain, dtype=torch.bool).scatter(1, y[:, None], False)
    torch.testing.assert_close(margin[others], plain[others])
    target, shifted = cosine.gather(1, y[:, None])[:, 0], margin.gather(1, y[:, None])[:, 0] / 30
    if name == "am_softmax":  # cos(theta) - m
        torch.testing.assert_close(shifted, target - 0.2)
    else:  # cos(theta + m): the angle grows by exactly the margin (here every theta + m < pi)
        assert (torch.acos(target) + 0.2 < math.pi).all()
        torch.testing.assert_close(torch.acos(shifted), torch.acos(target) + 0.2, rtol=0, atol=1e-4)
    loss, logits = head(emb, y)
    assert torch.equal(logits, plain.detach())
    assert loss.item() == pytest.approx(F.cross_entropy(margin, y).item(), rel=1e-6)
    assert loss.item() > F.cross_entropy(plain, y).item()  # the margin makes the task harder


def test_aam_margin_stays_decreasing_past_pi():
    head = load_loss("aam_softmax", n_classes=1, ndims=2, margin=0.5, scale=1.0)
    cosine = torch.cos(torch.linspace(0, math.pi, 200))[:, None]
    target = head.target_cosine(cosine)[:, 0]
    assert (target[1:] < target[:-1]).all()


def test_unknown_loss_name():
    with pytest.raises(ValueError, match="unknown loss 'arcface'"):
        load_loss("arcface", 3, 2)
