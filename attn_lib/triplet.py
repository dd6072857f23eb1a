"""Triplet Attention: three spatial-attention gates, each on a different pair of the
axes (C, H, W), averaged.

Misra, Nalamada, Arasanipalai, Hou. "Rotate to Attend: Convolutional Triplet Attention
Module". WACV 2021. https://arxiv.org/abs/2010.03045

For each of the three axes, the tensor is pooled along that axis and a spatial gate is
computed on the plane of the other two:

    Z-pool_a(x) = [max_a x ; mean_a x]              two maps on the other two axes
    g_a = σ(BN(f^{7×7}(Z-pool_a(x))))               a ∈ {H, W, C}
    out = x · (g_H + g_W + g_C) / 3

g_H lives on the (C, W) plane, g_W on the (H, C) plane, g_C on the (H, W) plane (the
last is CBAM's spatial gate with a batch norm). The paper describes the first two as
rotations of the tensor (its code permutes it so that the pooled axis comes first);
pooling along the axis in place computes the same thing without the copies. Each
branch has a 7×7 convolution 2 → 1 without bias (98 weights) and a one-channel batch
norm (2): 300 parameters, whatever C is.

Two details come from the authors' code (triplet_attention.py): Z-pool stacks max before
mean, and the batch norm has momentum 0.01 (PyTorch's default is 0.1). This module
follows both, and lays each plane out as the code's permutations do ((C, W) for g_H,
(H, C) for g_W), so the authors' weights load unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._base import AttentionModule

__all__ = ["TripletAttention"]

# The authors' BasicConv: BatchNorm2d(1, eps=1e-5, momentum=0.01).
_BN_MOMENTUM = 0.01


def _z_pool(x: Tensor, dim: int) -> Tensor:
    """[max; mean] of x along ``dim``, stacked on a new axis 1: (N, 2, other axes)."""
    # amax is the faster forward; torch.max records its argmax (a cheap backward).
    peak = torch.max(x, dim)[0] if torch.is_grad_enabled() else x.amax(dim)
    return torch.stack([peak, x.mean(dim)], dim=1)


class _PlaneGate(nn.Module):
    """σ(BN(conv7×7([max; mean]))) on one plane: (N, 2, A, B) -> (N, 1, A, B)."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1, momentum=_BN_MOMENTUM)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.bn(self.conv(pooled)).sigmoid()


class TripletAttention(AttentionModule):
    """Three gates, on the (C, W), (H, C) and (H, W) planes, averaged.

    Args:
        channels: C, the number of input (and output) channels. No layer depends on it.
        kernel_size: k of each branch's convolution. Paper: 7.
        spatial: keep the third, (H, W), branch. The authors' code calls its absence
            ``no_spatial=True`` (then the two other gates are averaged).

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"width": (N, C, 1, W), "height": (N, C, H, 1),
            "spatial": (N, 1, H, W)}
            (g_H pooled over H, g_W pooled over W, g_C pooled over C), values in (0, 1);
            the gate applied is their mean, (N, C, H, W).

    Each batch norm sees N · (its plane's size) values, so a batch of 1 trains unless a
    plane has one value (a 1×1 map: the (H, W) plane).
    """

    def __init__(
        self, channels: int, kernel_size: int = 7, spatial: bool = True
    ) -> None:
        super().__init__(channels)
        integer = isinstance(kernel_size, int) and not isinstance(kernel_size, bool)
        if not integer or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                "TripletAttention: kernel_size must be a positive odd int, "
                f"got {kernel_size!r}"
            )
        self.kernel_size = kernel_size
        # The authors' names: "cw" (pooled over H), "hc" (over W), "hw" (over C).
        self.channel_width = _PlaneGate(kernel_size)
        self.height_channel = _PlaneGate(kernel_size)
        self.height_width = _PlaneGate(kernel_size) if spatial else None

    def check_input(self, x: Tensor) -> None:
        super().check_input(x)
        n, c, h, w = x.shape
        if self.training and min(n * c * w, n * h * c, n * h * w) == 1:
            raise ValueError(
                "TripletAttention: in training mode each branch's batch norm needs "
                f"more than one value, and a plane of input {tuple(x.shape)} has one; "
                "call .eval() or pass a larger batch or map"
            )

    def gates(self, x: Tensor) -> dict[str, Tensor]:
        """The branch gates, with gradients, shaped to broadcast against x."""
        n, c, h, w = x.shape
        # Pooled over H: a (C, W) plane, as the code's permute(0, 2, 1, 3) lays it out.
        g_h = self.channel_width(_z_pool(x, 2)).view(n, c, 1, w)
        # Pooled over W: an (H, C) plane, as permute(0, 3, 2, 1) lays it out.
        g_w = self.height_channel(_z_pool(x, 3).transpose(2, 3))  # (N, 1, H, C)
        g_w = g_w.transpose(2, 3).reshape(n, c, h, 1)
        gates = {"width": g_h, "height": g_w}
        if self.height_width is not None:
            gates["spatial"] = self.height_width(_z_pool(x, 1))  # (N, 1, H, W)
        return gates

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        gates = self.gates(x)
        total = gates["width"] + gates["height"]  # (N, C, H, W)
        if "spatial" in gates:
            total = total + gates["spatial"]
        # One product with the summed gate: the authors' code multiplies x three times.
        return x * (total / len(gates)), gates
