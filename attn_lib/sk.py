"""Selective Kernel convolution (SK): branches with different receptive fields, mixed
per channel.

Li, Wang, Hu, Yang. "Selective Kernel Networks". CVPR 2019.
https://arxiv.org/abs/1903.06586

    Split:  U_m = δ(BN(conv_m(X)))
                m = 1..M; conv_1 is 3×3, conv_2 is 3×3
                with dilation 2 (a 5×5 receptive field)
    Fuse:   U = Σ_m U_m,  s = GAP(U),  z = δ(BN(W_s s))
                s ∈ R^C, z ∈ R^d
    Select: a_m = softmax_m(A_m z),   V = Σ_m a_m ⊙ U_m
                softmax across the M branches

d = max(C / r, L) with r = 16, L = 32; the convolutions are grouped (G = 32 in
SKNet-50). Each branch pads by its dilation, so V has X's spatial size and the unit can
sit in a residual block.
"""

from __future__ import annotations

from torch import Tensor, nn

from ._base import AttentionModule

__all__ = ["SelectiveKernel"]


class SelectiveKernel(AttentionModule):
    """An SK convolution: M grouped 3×3 branches of growing dilation, chosen by soft
    attention.

    Args:
        channels: C, the number of input channels.
        out_channels: channels of V; defaults to C.
        num_branches: M. Paper: 2 (dilations 1 and 2; branch m has dilation m).
        groups: G of every branch convolution; must divide C and out_channels.
            Paper: 32.
        reduction: r. Paper: 16.
        min_hidden: L, the smallest width d of z. Paper: 32.
        stride: stride of every branch (2 in the first block of a stage). Default 1.

    Shapes:
        forward: x (N, C, H, W) -> (N, out_channels, H / stride, W / stride)
        attention: {"branch": (N, M, out_channels)}, non-negative and summing to 1
            over M
    """

    def __init__(
        self,
        channels: int,
        out_channels: int | None = None,
        num_branches: int = 2,
        groups: int = 32,
        reduction: int = 16,
        min_hidden: int = 32,
        stride: int = 1,
    ) -> None:
        super().__init__(channels)
        out_channels = channels if out_channels is None else out_channels
        if num_branches < 1:
            raise ValueError(
                f"SelectiveKernel: num_branches M must be >= 1, got {num_branches!r}"
            )
        if channels % groups or out_channels % groups:
            raise ValueError(
                f"SelectiveKernel: groups G={groups} must divide channels ({channels}) "
                f"and out_channels ({out_channels}); pass groups=1 or a common divisor"
            )
        if reduction < 1 or min_hidden < 1:
            raise ValueError(
                "SelectiveKernel: reduction and min_hidden must be positive, "
                f"got {reduction!r}, {min_hidden!r}"
            )
        hidden = max(out_channels // reduction, min_hidden)  # d
        self.out_channels, self.num_branches = out_channels, num_branches
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(
                    channels,
                    out_channels,
                    3,
                    stride,
                    padding=dilation,
                    dilation=dilation,
                    groups=groups,
                    bias=False,
                ),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            )
            for dilation in range(1, num_branches + 1)
        )
        # W_s and the A_m have no bias in the paper; W_s is followed by batch norm.
        self.squeeze = nn.Sequential(
            nn.Conv2d(out_channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
        )
        # All A_m as one 1×1 convolution d -> M·C: one matrix product instead of M.
        self.select = nn.Conv2d(hidden, num_branches * out_channels, 1, bias=False)

    def _has_pooled_batch_norm(self) -> bool:
        return True

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        feats = [branch(x) for branch in self.branches]  # M × (N, C', H', W')
        u = feats[0]
        for f in feats[1:]:
            u = u + f
        z = self.squeeze(u.mean((2, 3), keepdim=True))  # (N, d, 1, 1)
        n, m, c = x.shape[0], self.num_branches, self.out_channels
        a = self.select(z).view(n, m, c).softmax(dim=1)  # (N, M, C')
        # Σ_m a_m ⊙ U_m without stacking the branches into one (N, M, C', H', W')
        # tensor.
        v = feats[0] * a[:, 0].view(n, c, 1, 1)
        for i in range(1, m):
            v = v + feats[i] * a[:, i].view(n, c, 1, 1)
        return v, {"branch": a}
