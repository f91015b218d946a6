"""Additive angular margin softmax (AAM-softmax, Deng et al. 2019; ArcFace): the target class scores
``scale * cos(theta_y + margin)``, the others ``scale * cos(theta_j)``. Defaults m = 0.2, s = 30
(voxceleb_trainer's and WeSpeaker's speaker-verification settings).

Where theta_y + m would pass pi (cos(theta_y + m) would rise again), the target cosine continues
linearly as ``cos(theta_y) - m sin(m)`` (ArcFace's "easy_margin false"), so it stays decreasing in theta_y.
"""
import math

import torch

from pyspk.nnet.losses.cosine_head import CosineHead


class Loss(CosineHead):
    def target_cosine(self, cosine):
        """cos(theta_y) (batch, 1) -> cos(theta_y + m)."""
        m = self.margin
        sine = torch.sqrt((1.0 - cosine * cosine).clamp(min=0.0))
        shifted = cosine * math.cos(m) - sine * math.sin(m)
        return torch.where(cosine > math.cos(math.pi - m), shifted, cosine - math.sin(math.pi - m) * m)
