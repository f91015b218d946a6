"""Training losses, one small module per loss, loaded by name (as voxceleb_trainer's ``loss/``).

Every loss module defines ``Loss(n_classes, ndims, **options)``, an ``nn.Module`` whose
``forward(logits, embeddings, labels)`` returns a scalar tensor and which may define
``update(embeddings, labels)``, called once per optimiser step after the backward pass, for state
kept outside the optimiser (the class centres of the center loss).
"""
import importlib

from torch import nn

NAMES = ("softmax", "center_loss")


def load_loss(name, n_classes, ndims, **options):
    """Instantiate loss ``name`` (a module of this package) -> ``nn.Module``."""
    if name not in NAMES:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(NAMES)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.Loss(n_classes, ndims, **options)


class JointLoss(nn.Module):
    """L = L_softmax + lambda * L_center (Yadav & Rai, eq. 3); lambda = 0 is plain softmax.

    ``forward`` returns ``(total, {name: value})`` with each term as a detached float tensor.
    """

    def __init__(self, n_classes, ndims, center_loss_weight=5.0, center_rate=0.5):
        super().__init__()
        self.center_loss_weight = center_loss_weight
        self.softmax = load_loss("softmax", n_classes, ndims)
        self.center = (load_loss("center_loss", n_classes, ndims, rate=center_rate)
                       if center_loss_weight > 0 else None)

    def forward(self, logits, embeddings, labels):
        terms = {"softmax": self.softmax(logits, embeddings, labels)}
        total = terms["softmax"]
        if self.center is not None:
            terms["center"] = self.center(logits, embeddings, labels)
            total = total + self.center_loss_weight * terms["center"]
        return total, {k: v.detach() for k, v in terms.items()}

    def update(self, embeddings, labels):
        """Move the class centres (a no-op for softmax only)."""
        if self.center is not None:
            self.center.update(embeddings, labels)
