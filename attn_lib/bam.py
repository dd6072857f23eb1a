"""Bottleneck Attention Module (BAM): channel and spatial branches in parallel, one 3-D
gate.

Park, Woo, Lee, Kweon. "BAM: Bottleneck Attention Module". BMVC 2018.
https://arxiv.org/abs/1807.06514

    M_c(F) = BN(MLP(AvgPool(F)))                                (N, C, 1, 1)
    M_s(F) = BN(f_3^{1×1}(f_2^{3×3}(f_1^{3×3}(f_0^{1×1}(F)))))  (N, 1, H, W),
                                                                f_1, f_2 dilated by d
    M(F)   = σ(M_c(F) + M_s(F))                                 broadcast to
                                                                (N, C, H, W)
    F'     = F + F ⊗ M(F)

r = 16 and dilation d = 4. The branches are summed before the sigmoid, as the paper's
equations and its ablation (sum beats max and product) have it; the authors' released
code multiplies them instead. Each hidden layer is followed by batch norm and ReLU.
"""

from __future__ import annotations

from torch import Tensor, nn

from ._base import AttentionModule, hidden_width

__all__ = ["BAM"]


def _conv_bn_relu(
    cin: int, cout: int, kernel_size: int, dilation: int = 1
) -> list[nn.Module]:
    padding = dilation * (kernel_size // 2)
    return [
        nn.Conv2d(
            cin, cout, kernel_size, padding=padding, dilation=dilation, bias=False
        ),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    ]


class BAM(AttentionModule):
    """A residual 3-D attention gate, placed at the bottlenecks between a network's
    stages.

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r, the width C/r (floored at 1) of both branches. Paper: 16.
        dilation: d of the two 3×3 convolutions of the spatial branch. Paper: 4.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": M_c (N, C, 1, 1), "spatial": M_s (N, 1, H, W),
            "combined": σ(M_c + M_s) (N, C, H, W)}. M_c and M_s are logits (before the
            sigmoid); the combined gate is what multiplies F.
    """

    def __init__(self, channels: int, reduction: int = 16, dilation: int = 4) -> None:
        super().__init__(channels)
        if not isinstance(dilation, int) or dilation < 1:
            raise ValueError(f"BAM: dilation must be a positive int, got {dilation!r}")
        hidden = hidden_width(channels, reduction)
        self.reduction, self.dilation = reduction, dilation
        self.channel_branch = nn.Sequential(
            *_conv_bn_relu(channels, hidden, 1),
            nn.Conv2d(hidden, channels, kernel_size=1),
            nn.BatchNorm2d(channels),
        )
        self.spatial_branch = nn.Sequential(
            *_conv_bn_relu(channels, hidden, 1),
            *_conv_bn_relu(hidden, hidden, 3, dilation),
            *_conv_bn_relu(hidden, hidden, 3, dilation),
            nn.Conv2d(hidden, 1, kernel_size=1),
            nn.BatchNorm2d(1),
        )

    def _has_pooled_batch_norm(self) -> bool:
        return True

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        m_c = self.channel_branch(x.mean((2, 3), keepdim=True))
        m_s = self.spatial_branch(x)
        m = (m_c + m_s).sigmoid()
        # F + F ⊗ M = F ⊗ (1 + M): one pass over F.
        return (1 + m) * x, {"channel": m_c, "spatial": m_s, "combined": m}
