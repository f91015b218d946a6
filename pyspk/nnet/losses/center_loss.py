"""Center loss (Wen et al., ECCV 2016) on the bottleneck embeddings.

L_C = 1/(2 m d) * sum_i ||x_i - c_{y_i}||^2 over a batch of m embeddings x_i of d dimensions: Wen et
al.'s eq. 2 averaged over the batch and the dimensions (as the widely used facenet implementation
does), so that lambda does not depend on ndims. With the plain sum over the 128 dimensions, the
paper's lambda = 5 pulls the embeddings onto the (initially zero) centres faster than the softmax
separates them: on the demo corpus the joint network stayed at chance accuracy for 15 epochs.
The gradient reaches the embeddings only; the centres are a buffer moved by ``update`` with their
own rate alpha (eq. 4):  delta_c_j = sum_i [y_i = j] (c_j - x_i) / (1 + sum_i [y_i = j]),
c_j <- c_j - alpha * delta_c_j. Under DDP the sums are all-reduced, so every rank keeps equal centres.

``normalize=True`` (off in the paper) applies both to the L2-normalised embeddings x_i / ||x_i||, the
vectors cosine scoring compares: L_C = 1/(2 m) * sum_i ||x_i/||x_i|| - c_{y_i}||^2, summed over the
dimensions since unit vectors already make it independent of ndims (at most 2 per utterance; with
unit centres it is 1 - cos(x_i, c_{y_i})). The network can then no longer lower L_C by shrinking every
embedding towards the (initially zero) centres, only by turning it towards its speaker's centre.
"""
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


class Loss(nn.Module):
    def __init__(self, n_classes, ndims, rate=0.5, normalize=False):
        super().__init__()
        self.rate = rate
        self.normalize = normalize
        self.register_buffer("centers", torch.zeros(n_classes, ndims))

    def _points(self, embeddings):
        """The vectors the centres summarise: (batch, ndims) float, unit length under ``normalize``."""
        embeddings = embeddings.float()
        return F.normalize(embeddings, dim=1) if self.normalize else embeddings

    def forward(self, embeddings, labels):
        """embeddings (batch, ndims), labels (batch,) -> scalar L_C."""
        squared = (self._points(embeddings) - self.centers[labels]).pow(2)
        return 0.5 * (squared.sum(dim=1).mean() if self.normalize else squared.mean())

    @torch.no_grad()
    def update(self, embeddings, labels):
        """One centre step from this batch's (detached) embeddings, eq. 4."""
        diff = self.centers[labels] - self._points(embeddings.detach())
        sums = torch.zeros_like(self.centers).index_add_(0, labels, diff)
        counts = torch.zeros(self.centers.shape[0], device=self.centers.device).index_add_(
            0, labels, torch.ones_like(labels, dtype=torch.float32))
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(sums)
            dist.all_reduce(counts)
        self.centers -= self.rate * sums / (1.0 + counts[:, None])
