"""Concurrent spatial and channel SE (scSE): an SE gate and an sSE gate on the same
input.

Roy, Navab, Wachinger. "Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully
Convolutional Networks". MICCAI 2018. https://arxiv.org/abs/1803.02579
Roy, Navab, Wachinger. "Recalibrating Fully Convolutional Networks With Spatial and
Channel 'Squeeze and Excitation' Blocks". IEEE TMI 38(2), 2019.
https://arxiv.org/abs/1808.08127

    x̂_cSE = s ⊙ x,   x̂_sSE = q ⊙ x,
    out = x̂_cSE + x̂_sSE       ("add", MICCAI paper)
    out = max(x̂_cSE, x̂_sSE)   ("max", TMI paper, authors' code)
    out = x̂_cSE ⊙ x̂_sSE       ("mul")

With "add" the output is x · (s_c + q_ij): the effective gate is a per-channel term
plus a per-pixel term.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._base import AttentionModule
from .se import SqueezeExcitation
from .sse import SpatialSqueezeExcitation

__all__ = ["SCSE", "AGGREGATIONS"]

AGGREGATIONS = ("add", "max", "mul")


class SCSE(AttentionModule):
    """Channel (SE) and spatial (sSE) recalibration computed in parallel and aggregated.

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r of the channel gate; SE's default, 16. Roy et al.'s released
            code (reduction_ratio=2) and the original notes use 2.
        aggregation: "add" (MICCAI 2018, default), "max" (the max-out of the
            authors' released code) or "mul".
        bias: whether the layers of both gates have biases (default True, as the
            authors' code); see SqueezeExcitation and SpatialSqueezeExcitation.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1), "spatial": (N, 1, H, W)}
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        aggregation: str = "add",
        bias: bool = True,
    ) -> None:
        super().__init__(channels)
        if aggregation not in AGGREGATIONS:
            raise ValueError(
                f"SCSE: aggregation must be one of {AGGREGATIONS}, got {aggregation!r}"
            )
        self.aggregation = aggregation
        self.channel_gate = SqueezeExcitation(channels, reduction, bias=bias)
        self.spatial_gate = SpatialSqueezeExcitation(channels, bias=bias)

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        s, q = self.channel_gate.gate(x), self.spatial_gate.gate(x)
        gates = {"channel": s, "spatial": q}
        if self.aggregation == "add":
            # s·x + q·x = (s + q)·x. s + q broadcasts to a full (N, C, H, W) tensor:
            # two full-size passes (the sum, the product) instead of three (two
            # products, one sum).
            return (s + q) * x, gates
        if self.aggregation == "max":
            return torch.maximum(x * s, x * q), gates
        return (x * s) * (x * q), gates
