"""The Global Context (GC) block: one attention map per image, shared by every position,
pools a context vector, which an SE-like bottleneck transforms and adds to every
position.

Cao, Xu, Lin, Wei, Hu. "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and
Beyond". ICCV Workshops 2019. https://arxiv.org/abs/1904.11492

    α_j = softmax_j(W_k x_j)                                 W_k: 1×1 conv C → 1
    c = Σ_j α_j x_j                                          context: (C,)
    t = W_v2 ReLU(LN(W_v1 c))                                1×1 convs C → C/r → C
    z_i = x_i + t                                            (fusion by addition)

The GCNet paper's observation: in a trained non-local block, the attention maps of
different query positions are nearly the same. GC computes that one map once, so the
cost is linear in HW, and keeps SE's bottleneck for the transform, with a LayerNorm
after its first layer. As in the
authors' code (ContextBlock), every convolution has a bias, the last layer starts at
zero (a fresh block is the identity under addition) and W_k gets He initialisation
(fan-in). Fusion by multiplication, z_i = x_i · sigmoid(t), is the paper's ablation
alternative.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._base import AttentionModule, hidden_width

__all__ = ["GlobalContext"]


class GlobalContext(AttentionModule):
    """Attention pooling to one context vector, a bottleneck transform, fused into x.

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r of the bottleneck. Paper: 16.
        fusion: "add" (the paper's choice, z = x + t) or "mul" (z = x · sigmoid(t)).

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"context": (N, 1, H, W), the pooling weights α (summing to 1 over
            H·W); "transform": (N, C, 1, 1), t for "add", sigmoid(t) for "mul"}

    The LayerNorm normalises each sample's C/r values on its own: any batch trains.
    """

    def __init__(self, channels: int, reduction: int = 16, fusion: str = "add") -> None:
        super().__init__(channels)
        if fusion not in ("add", "mul"):
            raise ValueError(
                f"GlobalContext: fusion must be 'add' or 'mul', got {fusion!r}"
            )
        hidden = hidden_width(channels, reduction)
        self.reduction = reduction
        self.fusion = fusion
        self.mask = nn.Conv2d(channels, 1, 1)  # W_k
        nn.init.kaiming_normal_(self.mask.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(self.mask.bias)
        self.transform = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),  # W_v1
            nn.LayerNorm([hidden, 1, 1]),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),  # W_v2
        )
        nn.init.zeros_(self.transform[-1].weight)
        nn.init.zeros_(self.transform[-1].bias)

    def context_weights(self, x: Tensor) -> Tensor:
        """α, with gradients: x (N, C, H, W) -> (N, 1, H, W), a softmax over HW."""
        n, _, h, w = x.shape
        return self.mask(x).view(n, 1, h * w).softmax(-1).view(n, 1, h, w)

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        n, c, h, w = x.shape
        alpha = self.context_weights(x)
        # c = Σ_j α_j x_j, one matrix product per image. Without autograd as
        # (1 × HW)·(HW × C): on one CPU thread (batch 8, C = 1024, 28 × 28) 2.5
        # times as fast as (C × HW)·(HW × 1). With autograd as (C × HW)·(HW × 1),
        # whose backward writes x's gradient in x's own layout (attn_lib.bench: the
        # other order made training 30 % slower at C = 1024, 56 × 56).
        flat = x.reshape(n, c, h * w)
        if torch.is_grad_enabled():
            context = torch.bmm(flat, alpha.view(n, h * w, 1))
        else:
            context = torch.bmm(alpha.view(n, 1, h * w), flat.transpose(1, 2))
        context = context.view(n, c, 1, 1)
        t = self.transform(context)
        if self.fusion == "add":
            return x + t, {"context": alpha, "transform": t}
        t = t.sigmoid()
        return x * t, {"context": alpha, "transform": t}
