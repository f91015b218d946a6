"""Symmetric (n, n) matrices stored as their upper triangles, n(n+1)/2 values (row-major, i <= j): the
full-covariance GMM's second-order features and the i-vector extractor's packed R x R statistics."""
import torch


class PackedSymmetric:
    """Index maps between symmetric (.., n, n) matrices and packed (.., n(n+1)/2) upper triangles, on
    ``device``."""

    def __init__(self, dim, device="cpu"):
        self.dim = dim
        self.rows, self.cols = torch.triu_indices(dim, dim, device=device)

    @property
    def size(self):
        """n(n+1)/2."""
        return self.rows.shape[0]

    def pack(self, mats):
        """(.., n, n) -> (.., n(n+1)/2)."""
        return mats[..., self.rows, self.cols]

    def unpack(self, packed):
        """(.., n(n+1)/2) -> (.., n, n) symmetric."""
        out = packed.new_zeros(packed.shape[:-1] + (self.dim, self.dim))
        out[..., self.rows, self.cols] = packed
        out[..., self.cols, self.rows] = packed
        return out

    def outer_products(self, x):
        """Rows x (T, n) -> their packed outer products x_i x_j, i <= j: (T, n(n+1)/2)."""
        return x[:, self.rows] * x[:, self.cols]
