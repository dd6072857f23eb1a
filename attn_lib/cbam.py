"""Convolutional Block Attention Module (CBAM): a channel gate, then a spatial gate.

Woo, Park, Lee, Kweon. "CBAM: Convolutional Block Attention Module". ECCV 2018.
https://arxiv.org/abs/1807.06521

    M_c(F) = σ(MLP(AvgPool(F)) + MLP(MaxPool(F)))          F'  = M_c(F) ⊙ F
    M_s(F') = σ(f^{7×7}([mean_c(F'); max_c(F')]))            F'' = M_s(F') ⊙ F'

MLP(z) = W2 δ(W1 z): W1: C → C/r and W2: C/r → C, δ is ReLU, r = 16; the same MLP
serves both pooled descriptors. (The CBAM paper names these weights W0 and W1; here they
are W1 and W2, as in SE.) The paper's Eq. 2 writes no biases; this MLP has them, as the
authors' code (nn.Linear) does; timm's default (mlp_bias=False) has none. The spatial
gate pools *across channels* at each pixel (not over the image) and convolves the two
resulting maps with one 7×7 kernel, so each pixel's gate sees a 7×7 neighbourhood.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._base import AttentionModule, hidden_width

__all__ = ["CBAM", "ChannelAttention", "SpatialAttention"]

# Max pooling, written two ways. ``amax`` is a plain reduction: in inference it is
# 5-10× faster than the pooling operations that also record where each maximum is
# (adaptive_max_pool2d, torch.max with a dim). But its backward compares every element
# with the maximum, casts, counts ties and divides: five passes over x, against one
# scatter into the recorded index. So when autograd records, the index-keeping operation
# is used; it makes CBAM's forward+backward about 25 % faster (attn_lib.bench). The
# values are identical; only the gradient at an exact tie differs (amax splits it
# between the tied elements, pooling gives it to one of them).


class ChannelAttention(AttentionModule):
    """CBAM's channel half: a shared MLP over the average- and max-pooled descriptors.

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r, hidden width ``max(C // r, 1)``. Paper: 16.
        bias: whether the MLP's layers have biases. Default True, as the authors'
            code; the paper's Eq. 2 writes none, nor does timm (mlp_bias=False).

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1)}
    """

    def __init__(self, channels: int, reduction: int = 16, bias: bool = True) -> None:
        super().__init__(channels)
        hidden = hidden_width(channels, reduction)
        self.reduction = reduction
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1, bias=bias)  # W1
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1, bias=bias)  # W2

    def gate(self, x: Tensor) -> Tensor:
        """M_c, with gradients: x (N, C, H, W) -> (N, C, 1, 1)."""
        n = x.shape[0]
        # The same maximum two ways: amax (the faster forward) when nothing will be
        # differentiated, else max pooling, whose recorded argmax makes backward cheap.
        peak = (
            F.adaptive_max_pool2d(x, 1)
            if torch.is_grad_enabled()
            else x.amax((2, 3), keepdim=True)
        )
        # One MLP call on both descriptors, stacked along the batch: the weights are
        # shared.
        pooled = torch.cat([x.mean((2, 3), keepdim=True), peak])
        mlp = self.fc2(self.relu(self.fc1(pooled)))
        return (mlp[:n] + mlp[n:]).sigmoid()

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        m_c = self.gate(x)
        # Gate first: see SqueezeExcitation.forward_with_attention.
        return m_c * x, {"channel": m_c}


class SpatialAttention(AttentionModule):
    """CBAM's spatial half: a k×k convolution over the channel-wise mean and max maps.

    Args:
        channels: C, the number of input (and output) channels (the gate itself has
            2·k² weights whatever C is).
        kernel_size: k, odd. Paper: 7 (a 3×3 kernel does worse in its ablation).
        norm: put a batch norm between the convolution and the sigmoid, as the
            authors' code and timm do. Paper: no (False).

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"spatial": (N, 1, H, W)}
    """

    def __init__(self, channels: int, kernel_size: int = 7, norm: bool = False) -> None:
        super().__init__(channels)
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                "SpatialAttention: kernel_size must be a positive odd int, "
                f"got {kernel_size!r}"
            )
        self.kernel_size = kernel_size
        # The paper's f^{7×7} has no bias term.
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.norm = nn.BatchNorm2d(1) if norm else None

    def gate(self, x: Tensor) -> Tensor:
        """M_s, with gradients: x (N, C, H, W) -> (N, 1, H, W)."""
        # The same maximum two ways: amax (the faster forward) when nothing will be
        # differentiated, else torch.max, whose recorded argmax makes backward cheap.
        peak = (
            torch.max(x, 1, keepdim=True)[0]
            if torch.is_grad_enabled()
            else x.amax(1, keepdim=True)
        )
        pooled = torch.cat([x.mean(1, keepdim=True), peak], dim=1)
        logits = self.conv(pooled)
        if self.norm is not None:
            logits = self.norm(logits)
        return logits.sigmoid()

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        m_s = self.gate(x)
        # Gate first: see SqueezeExcitation.forward_with_attention.
        return m_s * x, {"spatial": m_s}


class CBAM(AttentionModule):
    """Channel attention followed by spatial attention, in sequence (the paper's best
    order).

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r of the channel MLP. Paper: 16.
        kernel_size: k of the spatial convolution. Paper: 7.
        channel_gate, spatial_gate: keep each half; switch one off to use the other
            alone.
        spatial_norm: batch-normalise the spatial convolution's output before the
            sigmoid. Paper: no (False, the default). True follows the authors' code
            (``BasicConv(2, 1, kernel_size, ..., relu=False)``: a bias-free conv, then
            BatchNorm2d with momentum 0.01 where this uses PyTorch's 0.1) and timm
            (``ConvNormAct(2, 1, kernel_size, apply_act=False)``). The authors' code
            also stacks the pooled maps as [max; mean] (its ChannelPool); this module
            and timm use the equation's [mean; max], so loading the authors' weights
            means swapping the two input channels of the convolution's weight.
        bias: whether the channel MLP has biases (see ChannelAttention). Default
            True.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1), "spatial": (N, 1, H, W)} (the halves in
            use); the spatial map is computed on the channel-refined features F', as in
            forward.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        kernel_size: int = 7,
        channel_gate: bool = True,
        spatial_gate: bool = True,
        spatial_norm: bool = False,
        bias: bool = True,
    ) -> None:
        super().__init__(channels)
        if not (channel_gate or spatial_gate):
            raise ValueError(
                "CBAM: at least one of channel_gate and spatial_gate must be True"
            )
        self.channel_attention = (
            ChannelAttention(channels, reduction, bias=bias) if channel_gate else None
        )
        self.spatial_attention = (
            SpatialAttention(channels, kernel_size, norm=spatial_norm)
            if spatial_gate
            else None
        )

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        gates = {}
        if self.channel_attention is not None:
            x, gates_c = self.channel_attention.forward_with_attention(x)
            gates.update(gates_c)
        if self.spatial_attention is not None:
            x, gates_s = self.spatial_attention.forward_with_attention(x)
            gates.update(gates_s)
        return x, gates
