"""SimAM: a parameter-free gate on every neuron, from the closed-form minimum of an
energy function.

Yang, Zhang, Li, Xie. "SimAM: A Simple, Parameter-Free Attention Module for
Convolutional Neural Networks". ICML 2021.
https://proceedings.mlr.press/v139/yang21o.html

For each channel, μ and σ² are the mean and variance of its H·W values, σ² divided
by n = HW − 1. A neuron t's minimal energy is low where t stands out from its
channel; its inverse is

    1/e_t = (t − μ)² / (4 (σ² + λ)) + 0.5,        out = x · sigmoid(1/e)

so the gate is a full (N, C, H, W) map with no learned weight. λ regularises the
energy. The authors' module defaults to λ = 1e-4, and so does this one; their README's
ImageNet commands pass 0.1 (``--attention_param``), and their scripts' own default is 4.

On a 1×1 map there is one neuron per channel: HW − 1 = 0, and the authors' code
divides 0 by 0 (NaN). Here n is floored at 1: t − μ = 0, σ² = 0, and every gate is
sigmoid(0.5), the value the formula takes as the deviation goes to zero.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._base import AttentionModule

__all__ = ["SimAM"]


def _inverse_energy(x: Tensor, lambda_: float) -> Tensor:
    """1/e = (t − μ)² / (4 (σ² + λ)) + 0.5 per neuron t: (N, C, H, W) -> same."""
    h, w = x.shape[2:]
    n = max(h * w - 1, 1)  # σ²'s divisor, floored at 1 for 1×1 maps
    deviation = (x - x.mean((2, 3), keepdim=True)).square()
    variance = deviation.sum((2, 3), keepdim=True) / n
    return deviation / (4 * (variance + lambda_)) + 0.5


# torch.fx (the book's diagrams) records this as one operation: the floor on n is Python
# on the map's size, which cannot be traced symbolically.
torch.fx.wrap("_inverse_energy")


class SimAM(AttentionModule):
    """A 3-D gate from each neuron's squared deviation from its channel's mean.

    Args:
        channels: C, the number of input (and output) channels (checked, unused:
            there are no weights).
        lambda_: λ in the energy. The authors' module: 1e-4.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"neuron": (N, C, H, W)}, values in (sigmoid(0.5), 1) ≈ (0.62, 1)
    """

    def __init__(self, channels: int, lambda_: float = 1e-4) -> None:
        super().__init__(channels)
        number = isinstance(lambda_, (int, float)) and not isinstance(lambda_, bool)
        if not number or not lambda_ > 0:
            raise ValueError(
                f"SimAM: lambda_ must be a positive number, got {lambda_!r}"
            )
        self.lambda_ = float(lambda_)

    def gate(self, x: Tensor) -> Tensor:
        """sigmoid(1/e), with gradients: x (N, C, H, W) -> (N, C, H, W)."""
        return _inverse_energy(x, self.lambda_).sigmoid()

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        g = self.gate(x)
        return x * g, {"neuron": g}

    def extra_repr(self) -> str:
        return f"channels={self.channels}, lambda_={self.lambda_:g}"
