"""Style-based Recalibration Module (SRM): a channel gate from each channel's style,
its mean and its standard deviation.

Lee, Kim, Nam. "SRM: A Style-based Recalibration Module for Convolutional Neural
Networks". ICCV 2019. https://arxiv.org/abs/1903.10829

    μ_nc = 1/HW Σ_hw x_nchw,   σ_nc = sqrt(1/HW Σ_hw (x_nchw − μ_nc)² + ε)
    z_nc = w_c1 μ_nc + w_c2 σ_nc,   g_nc = sigmoid(BN(z_nc)),   out = g ⊙ x

Style pooling gives t_nc = [μ_nc, σ_nc]; style integration is a channel-wise fully
connected layer (CFC: two weights per channel, no bias), batch norm over the batch and
a sigmoid. 4C parameters per module (2C in the CFC, 2C in the batch norm).

Two details come from the authors' code (models/recalibration_modules.py), not the
paper: ε = 1e-5 inside the square root, which keeps σ's gradient finite where a
channel is constant (on a 1×1 map σ = √ε); and the CFC's weights start at zero. The
paper's σ divides by HW, the code's ``x.var()`` by HW − 1, which is undefined (NaN)
on a 1×1 map; this module divides by HW, as the paper's equation does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._base import AttentionModule

__all__ = ["SRM", "style_pool"]


def style_pool(x: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Each channel's mean μ and standard deviation σ (over HW, ε inside the root):
    x (N, C, H, W) -> two (N, C, 1, 1) tensors.
    """
    n, c, h, w = x.shape
    # σ² = mean(x²) − μ², with Σ x² as one dot product per channel: measured with
    # attn_lib.bench, torch.var_mean (Welford's algorithm) takes 30 times as long as
    # x.mean, this 2 times. Digits lost to cancellation only where |μ| ≫ σ (float32:
    # 4 of 7 at |μ| = 100 σ); half precision is promoted to float32 for it.
    stats = x if x.dtype in (torch.float32, torch.float64) else x.float()
    flat = stats.reshape(n * c, 1, h * w)
    mean = stats.mean((2, 3), keepdim=True)
    mean_sq = torch.bmm(flat, flat.transpose(1, 2)).view(n, c, 1, 1) / (h * w)
    var = (mean_sq - mean * mean).clamp_min(0)
    return mean.to(x.dtype), (var + eps).sqrt().to(x.dtype)


def _style_integration(x: Tensor, cfc: Tensor, eps: float) -> Tensor:
    """z = w_1 μ + w_2 σ per channel: x (N, C, H, W), cfc (C, 2) -> (N, C, 1, 1)."""
    mean, std = style_pool(x, eps)
    w = cfc.view(1, -1, 2, 1)
    return mean * w[:, :, 0:1] + std * w[:, :, 1:2]


# torch.fx (the book's diagrams) records this as one operation: style_pool's Python on
# shapes and dtypes cannot be traced symbolically.
torch.fx.wrap("_style_integration")


class SRM(AttentionModule):
    """Channel attention from style pooling and a channel-wise fully connected layer.

    Args:
        channels: C, the number of input (and output) channels.
        eps: ε added to the variance before the square root. Authors' code: 1e-5.

    The CFC's weights (``cfc``, shape (C, 2): column 0 weighs μ, column 1 weighs σ)
    start at zero, as in the authors' code: every gate then starts at
    sigmoid(BN(0)) = 0.5, and the batch norm, which normalises z over the batch,
    makes the first gradients independent of the weights' scale. The paper gives no
    initialisation.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1)} with values in (0, 1)

    In training mode the batch norm needs N > 1 (it sees one z per channel and
    sample); in eval mode it uses its running statistics and any batch works.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__(channels)
        self.eps = eps
        self.cfc = nn.Parameter(torch.zeros(channels, 2))
        self.bn = nn.BatchNorm2d(channels)

    def _has_pooled_batch_norm(self) -> bool:
        return True

    def gate(self, x: Tensor) -> Tensor:
        """The channel gate g, with gradients: x (N, C, H, W) -> (N, C, 1, 1)."""
        z = _style_integration(x, self.cfc, self.eps)  # style pooling and integration
        return self.bn(z).sigmoid()

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        g = self.gate(x)
        # Gate first: see SqueezeExcitation.forward_with_attention.
        return g * x, {"channel": g}
