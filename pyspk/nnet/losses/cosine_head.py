"""The classifier shared by the margin losses: cosine similarity to one learnt vector per class.

``cosine(embeddings)`` = cos(theta_j) between each L2-normalised embedding and each normalised class
weight, (batch, n_classes) float32. The class scores without margin are ``scale * cos(theta_j)``; while
training, a margin loss replaces the target class's cosine by ``target_cosine(cos(theta_y))``, a method
each margin loss (a subclass) defines, and takes the cross-entropy of the scaled result.
"""
import torch
import torch.nn.functional as F
from torch import nn


class CosineHead(nn.Module):
    def __init__(self, n_classes, ndims, margin=0.2, scale=30.0):
        super().__init__()
        self.margin, self.scale = margin, scale
        self.weight = nn.Parameter(torch.empty(n_classes, ndims))
        nn.init.xavier_normal_(self.weight, gain=1.0)

    def cosine(self, embeddings):
        return F.linear(F.normalize(embeddings.float()), F.normalize(self.weight.float()))

    def logits(self, embeddings):
        """embeddings (batch, ndims) -> class scores ``scale * cos`` (batch, n_classes), no margin."""
        return self.scale * self.cosine(embeddings)

    def margin_logits(self, embeddings, labels):
        """Training logits (batch, n_classes): ``scale * cos``, the target class with the margin applied."""
        return self._with_margin(self.cosine(embeddings), labels)

    def _with_margin(self, cosine, labels):
        target = self.target_cosine(cosine.gather(1, labels[:, None]))
        return self.scale * cosine.scatter(1, labels[:, None], target)

    def forward(self, embeddings, labels):
        """embeddings (batch, ndims), labels (batch,) -> (mean cross-entropy of the margin logits (nats),
        logits without margin (batch, n_classes))."""
        cosine = self.cosine(embeddings)
        return F.cross_entropy(self._with_margin(cosine, labels), labels), self.scale * cosine.detach()
