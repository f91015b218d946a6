"""Softmax cross-entropy with the paper's classifier head: dropout -> FC-n_classes (Yadav & Rai 2018)."""
import torch.nn.functional as F
from torch import nn


class Loss(nn.Module):
    def __init__(self, n_classes, ndims, dropout=0.4):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(ndims, n_classes)

    def logits(self, embeddings):
        """embeddings (batch, ndims) -> class scores (batch, n_classes) (dropout only in train mode)."""
        return self.classifier(self.dropout(embeddings))

    def forward(self, embeddings, labels):
        """embeddings (batch, ndims), labels (batch,) int64 -> (mean cross-entropy (nats), logits)."""
        logits = self.logits(embeddings)
        return F.cross_entropy(logits.float(), labels), logits
