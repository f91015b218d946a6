"""Additive margin softmax (AM-softmax, Wang et al. 2018; CosFace): the target class scores
``scale * (cos(theta_y) - margin)``, the others ``scale * cos(theta_j)``. Defaults m = 0.2, s = 30
(voxceleb_trainer's and WeSpeaker's speaker-verification settings)."""
from pyspk.nnet.losses.cosine_head import CosineHead


class Loss(CosineHead):
    def target_cosine(self, cosine):
        """cos(theta_y) (batch, 1) -> cos(theta_y) - m."""
        return cosine - self.margin
