"""Training losses, one small module per loss, loaded by name (as voxceleb_trainer's ``loss/``).

A classification loss owns its classifier head, as in voxceleb_trainer and WeSpeaker: the network
(``pyspk.nnet.vgg``) ends at the embedding. Every loss module defines ``Loss(n_classes, ndims, **options)``,
an ``nn.Module``:

- a classification loss (``HEADS``: softmax, am_softmax, aam_softmax) has
  ``forward(embeddings (batch, ndims), labels (batch,)) -> (scalar loss, logits (batch, n_classes))``
  and ``logits(embeddings)``, the class scores without any margin (identification, training accuracy);
- the center loss has ``forward(embeddings, labels) -> scalar`` and ``update(embeddings, labels)``,
  called once per optimiser step after the backward pass, for the centres kept outside the optimiser.
"""
import importlib

from torch import nn

HEADS = ("softmax", "am_softmax", "aam_softmax")
NAMES = HEADS + ("center_loss",)


def load_loss(name, n_classes, ndims, **options):
    """Instantiate loss ``name`` (a module of this package) -> ``nn.Module``."""
    if name not in NAMES:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(NAMES)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.Loss(n_classes, ndims, **options)


def head_options(name, dropout=0.4, margin=0.2, scale=30.0):
    """The options of classification loss ``name`` among the training options: the softmax head takes
    the paper's dropout, the margin losses their margin and scale."""
    if name not in HEADS:
        raise ValueError(f"unknown classification loss {name!r}; known: {', '.join(HEADS)}")
    return {"dropout": dropout} if name == "softmax" else {"margin": margin, "scale": scale}


class JointLoss(nn.Module):
    """L = L_head + lambda * L_center (Yadav & Rai, eq. 3, with the softmax head); lambda = 0: no center loss.

    ``head``: a name of ``HEADS`` with its ``options``. ``forward(embeddings, labels, center_weight=None)``
    returns ``(total, {name: detached value}, logits without margin)``; ``center_weight`` overrides lambda
    for this step (its warm-up), and a zero lambda at construction leaves the center loss out entirely.
    """

    def __init__(self, n_classes, ndims, head="softmax", options=None, center_loss_weight=5.0, center_rate=0.5,
                 center_loss_normalize=False):
        super().__init__()
        self.center_loss_weight = center_loss_weight
        self.head = load_loss(head, n_classes, ndims, **(options or {}))
        self.center = (load_loss("center_loss", n_classes, ndims, rate=center_rate, normalize=center_loss_normalize)
                       if center_loss_weight > 0 else None)

    def forward(self, embeddings, labels, center_weight=None):
        head, logits = self.head(embeddings, labels)
        terms = {"head": head}
        total = head
        if self.center is not None:
            terms["center"] = self.center(embeddings, labels)
            weight = self.center_loss_weight if center_weight is None else center_weight
            total = total + weight * terms["center"]
        return total, {k: v.detach() for k, v in terms.items()}, logits

    def update(self, embeddings, labels):
        """Move the class centres (a no-op without center loss)."""
        if self.center is not None:
            self.center.update(embeddings, labels)
