"""Squeeze-and-Excitation (SE), the channel gate that the scSE papers call cSE.

Hu, Shen, Sun. "Squeeze-and-Excitation Networks". CVPR 2018.
https://arxiv.org/abs/1709.01507

    s = σ(W2 δ(W1 z)),   z_c = mean over (h, w) of x_c,   out_c = s_c · x_c

W1: C → C/r and W2: C/r → C are fully connected layers (1×1 convolutions here, since
z is already N×C×1×1); δ is ReLU, σ the logistic sigmoid; the paper's default is
r = 16. The layers have biases, as in the authors' released SE-ResNets (their Caffe
models keep the default bias_term on these layers); the equation writes none, and the
journal version's ablation (TPAMI, Sec. 6) drops them on ResNets, finding that helps.
"""

from __future__ import annotations

from torch import Tensor, nn

from ._base import AttentionModule, hidden_width

__all__ = ["SqueezeExcitation"]


class SqueezeExcitation(AttentionModule):
    """Channel attention by squeeze (global average pool) and excitation (bottleneck
    MLP).

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r, the bottleneck ratio; the hidden width is ``max(C // r, 1)``.
            Paper: 16.
        bias: whether W1 and W2 have biases. Default True, as the released Caffe
            models, timm and this library's trained models; False is the
            configuration the journal version's ablation (TPAMI, Sec. 6) adopts for
            ResNets.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1)} with values in (0, 1)
    """

    def __init__(self, channels: int, reduction: int = 16, bias: bool = True) -> None:
        super().__init__(channels)
        hidden = hidden_width(channels, reduction)
        self.reduction = reduction
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1, bias=bias)  # W1
        self.relu = nn.ReLU(inplace=True)
        # Without this non-linearity W2·W1 would collapse to a single linear map of
        # rank C/r.
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1, bias=bias)  # W2

    def gate(self, x: Tensor) -> Tensor:
        """The channel gate s, with gradients: x (N, C, H, W) -> (N, C, 1, 1)."""
        z = x.mean((2, 3), keepdim=True)  # squeeze
        return self.fc2(self.relu(self.fc1(z))).sigmoid()  # excitation

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        s = self.gate(x)
        # s · x rather than x · s: the same product, but autograd then computes the
        # gate's gradient (a reduction) before the input's, and reuses its memory
        # (a few % faster backward).
        return s * x, {"channel": s}
