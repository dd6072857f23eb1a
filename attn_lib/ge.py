"""Gather-Excite (GE): a gate from the context around each position, SE's squeeze
generalised from the whole map to an extent.

Hu, Shen, Albanie, Sun, Vedaldi. "Gather-Excite: Exploiting Feature Context in
Convolutional Neural Networks". NeurIPS 2018. https://arxiv.org/abs/1810.12348

    x̂ = ξ_G(x),   out = x ⊙ σ(interp(x̂))

The gather ξ_G maps (H, W) to (⌈H/e⌉, ⌈W/e⌉) for an extent ratio e (the paper tries
e = 2, 4, 8 and global, where x̂ is 1×1); the excite resizes x̂ back to H×W by
nearest-neighbour interpolation, applies the sigmoid and multiplies. Three variants:

- θ⁻ (``variant="theta-"``, no parameters): ξ_G is average pooling, a (2e−1)×(2e−1)
  window with stride e (the authors' diagram of GE-θ⁻ (E8): 15×15, stride 8), or the
  mean over the whole map for a global extent: then GE-θ⁻ is σ(GAP(x)) ⊙ x, SE with
  the excitation MLP removed.
- θ (``variant="theta"``): ξ_G is learned and depthwise: log2(e) 3×3 depthwise
  convolutions of stride 2, each with batch norm, ReLU between them (the authors'
  diagram of GE-θ (E8)); for a global extent one depthwise convolution whose kernel is
  the whole H×W map, then batch norm (the authors' RN50-GEP.prototxt: kernel 56 at
  ResNet-50's first stage).
- θ⁺ (``variant="theta+"``): θ's gather, a ReLU, then SE's excitation, 1×1
  convolutions C → C/r → C with biases and a ReLU between, r = 16 (the authors'
  RN50-GEPP.prototxt).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._base import AttentionModule, hidden_width

__all__ = ["GatherExcite"]

VARIANTS = ("theta-", "theta", "theta+")


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


class GatherExcite(AttentionModule):
    """Gather context over an extent, excite each position with its sigmoid.

    Args:
        channels: C, the number of input (and output) channels.
        variant: "theta-" (θ⁻, parameter-free: average pooling), "theta" (θ, depthwise
            convolutions) or "theta+" (θ⁺, θ and an SE-style MLP). Default: θ⁻.
        extent: e, the extent ratio: None for global (the paper's best θ⁻, and the
            default), or 2, 4, 8, ... (a power of two: θ and θ⁺ gather with log2(e)
            stride-2 convolutions).
        feature_size: (H, W) of the input, required by θ and θ⁺ with a global extent,
            whose depthwise kernel covers the whole map (56, 28, 14, 7 in ResNet-50's
            four stages at 224 × 224).
        reduction: r, θ⁺'s bottleneck ratio; the hidden width is ``max(C // r, 1)``.
            Paper: 16.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1)} for a global extent, {"local":
        (N, C, H, W)} otherwise; values in (0, 1)

    A 1×1 map with a finite extent is its own neighbourhood: θ⁻ then gives σ(x) ⊙ x.
    """

    def __init__(
        self,
        channels: int,
        variant: str = "theta-",
        extent: int | None = None,
        feature_size: int | tuple[int, int] | None = None,
        reduction: int = 16,
    ) -> None:
        super().__init__(channels)
        if variant not in VARIANTS:
            raise ValueError(
                f"GatherExcite: variant must be one of {VARIANTS}, got {variant!r}"
            )
        if extent is not None and (
            isinstance(extent, bool)
            or not isinstance(extent, int)
            or extent < 2
            or extent & (extent - 1)
        ):
            raise ValueError(
                "GatherExcite: extent must be None (global) or a power of two >= 2, "
                f"got {extent!r}"
            )
        if variant != "theta-" and extent is None and feature_size is None:
            raise ValueError(
                f"GatherExcite: variant {variant!r} with a global extent needs "
                "feature_size=(H, W): its depthwise kernel covers the whole map"
            )
        self.variant, self.extent = variant, extent
        self.feature_size = None if feature_size is None else _pair(feature_size)
        self.gather = None if variant == "theta-" else self._depthwise_gather(channels)
        self.excite = None
        if variant == "theta+":
            hidden = hidden_width(channels, reduction)
            self.reduction = reduction
            self.excite = nn.Sequential(
                nn.ReLU(inplace=True),  # after the gather's batch norm, as in GEPP
                nn.Conv2d(channels, hidden, kernel_size=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(hidden, channels, kernel_size=1),
            )

    def _depthwise_gather(self, c: int) -> nn.Sequential:
        if self.extent is None:
            conv = nn.Conv2d(c, c, self.feature_size, groups=c, bias=False)
            return nn.Sequential(conv, nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        for i in range(int(math.log2(self.extent))):
            if i:
                layers.append(nn.ReLU(inplace=True))
            conv = nn.Conv2d(c, c, 3, stride=2, padding=1, groups=c, bias=False)
            layers += [conv, nn.BatchNorm2d(c)]
        return nn.Sequential(*layers)

    def _has_pooled_batch_norm(self) -> bool:
        return self.gather is not None and self.extent is None

    def check_input(self, x: Tensor) -> None:
        super().check_input(x)
        if self.gather is None:
            return
        size = tuple(x.shape[2:])
        if self.extent is None and size != self.feature_size:
            raise ValueError(
                f"GatherExcite: built for feature_size {self.feature_size}, got a "
                f"{size[0]}×{size[1]} map in shape {tuple(x.shape)}"
            )
        cells = math.ceil(size[0] / (self.extent or 1)) * math.ceil(
            size[1] / (self.extent or 1)
        )
        if self.training and x.shape[0] * cells == 1:
            raise ValueError(
                "GatherExcite: in training mode this input leaves its batch norm one "
                "value per channel (batch 1, a 1×1 gathered map); call .eval() or "
                "pass a larger batch"
            )

    def gate(self, x: Tensor) -> Tensor:
        """The gate, with gradients: x (N, C, H, W) -> (N, C, 1, 1) for a global
        extent, else (N, C, H, W).
        """
        if self.gather is not None:
            g = self.gather(x)
        elif self.extent is None:
            g = x.mean((2, 3), keepdim=True)
        else:
            e = self.extent
            # Padding e − 1 gives ⌈H/e⌉ outputs; windows cut by the border average
            # the pixels they cover (as timm does), not zeros.
            g = F.avg_pool2d(x, 2 * e - 1, e, e - 1, count_include_pad=False)
        if self.excite is not None:
            g = self.excite(g)
        # The sigmoid before the interpolation: the same values for nearest
        # neighbours, computed on the small map.
        g = torch.sigmoid(g)
        if self.extent is not None:
            g = F.interpolate(g, size=x.shape[2:], mode="nearest")
        return g

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        g = self.gate(x)
        # Gate first: see SqueezeExcitation.forward_with_attention.
        return g * x, {"channel" if self.extent is None else "local": g}
