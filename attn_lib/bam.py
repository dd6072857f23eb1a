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

r = 16 and dilation d = 4. The channel branch pools by average only (no max pooling).

What comes from where:
- The paper: the batch norm that ends each branch (M_c = BN(...), M_s = BN(...)), the
  sum of the branches before the sigmoid (its ablation: sum beats max and product) and
  the residual use of the gate.
- The authors' released code (Jongchan/attention-module, MODELS/bam.py): batch norm and
  ReLU after every hidden layer, which the paper's equations do not write. That code
  has no final batch norms and multiplies the branches,
  ``att = 1 + F.sigmoid(self.channel_att(in_tensor) * self.spatial_att(in_tensor))``;
  ``fusion="product"`` takes that combination (and keeps the paper's final norms).
"""

from __future__ import annotations

from torch import Tensor, nn

from ._base import AttentionModule, hidden_width

__all__ = ["BAM", "FUSIONS"]

FUSIONS = ("sum", "product")


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
        fusion: how the two branches' logits combine before the sigmoid: "sum"
            (M_c + M_s, the paper's, default) or "product" (M_c · M_s, the authors'
            released code).

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": M_c (N, C, 1, 1), "spatial": M_s (N, 1, H, W),
            "combined": σ(M_c + M_s) or σ(M_c · M_s) (N, C, H, W)}. M_c and M_s are
            logits (before the sigmoid); the combined gate M is what multiplies F.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        dilation: int = 4,
        fusion: str = "sum",
    ) -> None:
        super().__init__(channels)
        if not isinstance(dilation, int) or dilation < 1:
            raise ValueError(f"BAM: dilation must be a positive int, got {dilation!r}")
        if fusion not in FUSIONS:
            raise ValueError(f"BAM: fusion must be one of {FUSIONS}, got {fusion!r}")
        hidden = hidden_width(channels, reduction)
        self.reduction, self.dilation, self.fusion = reduction, dilation, fusion
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
        logits = m_c + m_s if self.fusion == "sum" else m_c * m_s
        m = logits.sigmoid()
        # F + F ⊗ M = F ⊗ (1 + M): one pass over F.
        return (1 + m) * x, {"channel": m_c, "spatial": m_s, "combined": m}
