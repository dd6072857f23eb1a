"""Spatial Squeeze-and-Excitation (sSE): a per-pixel gate from a 1×1 convolution.

Roy, Navab, Wachinger. "Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully
Convolutional Networks". MICCAI 2018. https://arxiv.org/abs/1803.02579

    q = σ(W_sq ⋆ x),   out_{:, i, j} = q_{i, j} · x_{:, i, j}

W_sq is a 1×1 convolution C → 1; q is one value in (0, 1) per pixel, shared by all
channels. The convolution has a bias, as in the authors' code (the paper's equation
leaves it out).
"""

from __future__ import annotations

from torch import Tensor, nn

from ._base import AttentionModule

__all__ = ["SpatialSqueezeExcitation"]


class SpatialSqueezeExcitation(AttentionModule):
    """Spatial attention: squeeze the channels at each pixel, excite the pixel.

    Args:
        channels: C, the number of input (and output) channels.
        bias: whether W_sq has a bias. Default True, as the authors' code.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"spatial": (N, 1, H, W)} with values in (0, 1)
    """

    def __init__(self, channels: int, bias: bool = True) -> None:
        super().__init__(channels)
        self.squeeze = nn.Conv2d(channels, 1, kernel_size=1, bias=bias)  # W_sq

    def gate(self, x: Tensor) -> Tensor:
        """The spatial gate q, with gradients: x (N, C, H, W) -> (N, 1, H, W)."""
        return self.squeeze(x).sigmoid()

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        q = self.gate(x)
        # Gate first: see SqueezeExcitation.forward_with_attention.
        return q * x, {"spatial": q}
