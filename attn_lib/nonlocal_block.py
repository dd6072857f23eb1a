"""The non-local block (embedded Gaussian): every position's response is a weighted sum
over all positions, weighted by the softmax of query-key products.

Wang, Girshick, Gupta, He. "Non-local Neural Networks". CVPR 2018.
https://arxiv.org/abs/1711.07971

    θ_i = W_θ x_i,   φ_j = W_φ x_j,   g_j = W_g x_j        1×1 convs C → C/2
    A_ij = softmax_j(s · θ_i^T φ_j)                          over all positions j
    y_i = Σ_j A_ij g_j,   z_i = BN(W_z y_i) + x_i            W_z: 1×1 conv C/2 → C

The batch norm's scale starts at zero, so a fresh block is the identity (the paper, Sec.
4.1: "the scale parameter of this BN layer is initialized as zero"). Subsampling, the
paper's trick (Sec. 3.3): a 2×2 max pool after φ and g, so that A has a quarter of
its columns (the authors' code pools the input of φ and g instead, and floors odd
sizes where this module rounds up). The scale s: the
paper's equation has none (s = 1); the authors' code multiplies θ^T φ by (C/2)^-½
(``NONLOCAL.USE_SCALE``), the 1/√d of a transformer's attention. This module follows
the code (``scale=True``); ``scale=False`` gives the equation.

A is an (HW × H'W') matrix per image: the block's time and memory grow as (HW)².
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._base import AttentionModule, hidden_width

__all__ = ["NonLocal"]


class NonLocal(AttentionModule):
    """A residual block of dot-product self-attention over positions.

    Args:
        channels: C, the number of input (and output) channels.
        reduction: the embeddings' width is C // reduction. Paper: 2.
        subsample: max-pool φ and g by 2×2 (the paper's trick; odd sizes round up).
        scale: multiply θ^T φ by (C/r)^-½, as the authors' code does; False follows
            the paper's equation.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"pairwise": (N, H·W, H'·W')}: row i is query i's softmax over the
            key positions (H' = ⌈H/2⌉ with subsampling, else H), rows summing to 1.

    Both ``forward`` and ``attention`` form A explicitly, with the scale applied to the
    queries (HW × C/r numbers) rather than to the logits (HW × H'W'). PyTorch's fused
    scaled_dot_product_attention computes the same (a test checks it), but on one CPU
    thread it was slower than this and held A in memory too (attn_lib.bench's curve).
    """

    def __init__(self, channels: int, reduction: int = 2, subsample: bool = False,
                 scale: bool = True) -> None:
        super().__init__(channels)
        inner = hidden_width(channels, reduction)
        self.inner = inner
        self.reduction = reduction
        self.scale = scale
        self.theta = nn.Conv2d(channels, inner, 1)
        self.phi = nn.Conv2d(channels, inner, 1)
        self.g = nn.Conv2d(channels, inner, 1)
        self.pool = nn.MaxPool2d(2, ceil_mode=True) if subsample else nn.Identity()
        self.out = nn.Conv2d(inner, channels, 1)  # W_z
        self.bn = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.bn.weight)  # a fresh block is the identity

    @property
    def softmax_scale(self) -> float:
        return self.inner ** -0.5 if self.scale else 1.0

    def _embed(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries (N, HW, d), keys and values (N, H'W', d)."""
        def positions_last(t: Tensor) -> Tensor:
            return t.flatten(2).transpose(1, 2)

        return (positions_last(self.theta(x)), positions_last(self.pool(self.phi(x))),
                positions_last(self.pool(self.g(x))))

    def _respond(self, x: Tensor, y: Tensor) -> Tensor:
        """z = BN(W_z y) + x, with y (N, HW, d) back on the grid."""
        n, _, h, w = x.shape
        y = y.transpose(1, 2).reshape(n, self.inner, h, w)
        return self.bn(self.out(y)) + x

    def _pairwise(self, q: Tensor, k: Tensor) -> Tensor:
        # Scaling the queries costs HW·d products, scaling the logits HW·H'W'.
        return torch.bmm(q * self.softmax_scale, k.transpose(1, 2)).softmax(-1)

    def pairwise(self, x: Tensor) -> Tensor:
        """A, with gradients: (N, HW, H'W'), each row a softmax over key positions."""
        q, k, _ = self._embed(x)
        return self._pairwise(q, k)

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        q, k, v = self._embed(x)
        a = self._pairwise(q, k)
        return self._respond(x, torch.bmm(a, v)), {"pairwise": a}
