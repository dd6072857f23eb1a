"""MobileNetV2 that takes any block attention by name, placed where Coordinate
Attention's authors place it.

Sandler, Howard, Zhu, Zhmoginov, Chen. "MobileNetV2: Inverted Residuals and Linear
Bottlenecks". CVPR 2018. https://arxiv.org/abs/1801.04381

The network is torchvision's ``mobilenet_v2`` (width 1.0: 3,504,872 parameters at
1000 classes): a 3×3 stride-2 stem, 17 inverted residual blocks, a 1×1 convolution to
1280 channels, dropout 0.2 and a linear classifier.

Placement: Hou et al. (CVPR 2021, Fig. 4a; their mbv2_ca.py) put coordinate attention
inside every inverted residual block that expands its input (t = 6, all but the first),
after the depthwise 3×3 convolution and its ReLU6, on the expanded channels and before
the linear 1×1 projection: 3.95 M parameters, as they report. Every other block
attention ("se", "sse", "scse", "cbam", "eca", "ge", "srm", "fca") goes to the same
place. BAM (between stages) and SK (a convolution) have no counterpart here and are
refused.
"""

from __future__ import annotations

from torch import Tensor, nn

from .._base import AttentionModule, attention_modules
from ..registry import MECHANISMS, create

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenet_v2"]

# (expansion t, output channels c, blocks n, first stride s), MobileNetV2's Table 2.
SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
BLOCK_ATTENTIONS = tuple(n for n, m in MECHANISMS.items() if m.placement == "block")


def _conv_bn(
    cin: int, cout: int, kernel_size: int, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    padding = kernel_size // 2
    conv = nn.Conv2d(cin, cout, kernel_size, stride, padding, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(cout)]


def _conv_bn_relu6(
    cin: int, cout: int, kernel_size: int, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    return [*_conv_bn(cin, cout, kernel_size, stride, groups), nn.ReLU6(inplace=True)]


class InvertedResidual(nn.Module):
    """1×1 expansion by t (unless t = 1), depthwise 3×3, attention, linear 1×1
    projection; x (N, C_in, H, W) -> (N, C_out, H/s, W/s), with the input added back
    when s = 1 and C_in = C_out.
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        stride: int,
        expansion: int,
        attention: str | None = None,
        attention_kwargs: dict | None = None,
    ) -> None:
        super().__init__()
        hidden = cin * expansion
        layers = _conv_bn_relu6(cin, hidden, 1) if expansion != 1 else []
        layers += _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden)
        if attention is not None and expansion != 1:
            layers.append(create(attention, hidden, **(attention_kwargs or {})))
        layers += _conv_bn(hidden, cout, 1)
        self.residual = nn.Sequential(*layers)
        self.use_shortcut = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        y = self.residual(x)
        return x + y if self.use_shortcut else y


class MobileNetV2(nn.Module):
    """MobileNetV2 (width 1.0) for images x (N, 3, H, W) -> logits (N, num_classes).

    Args:
        num_classes: size of the classifier. ImageNet: 1000.
        attention: None or a registered block attention; see the module docstring.
        attention_kwargs: keywords for every attention module (e.g. ``reduction=8``).
        dropout: before the classifier. torchvision: 0.2 (Hou et al.'s code: 0.1).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        attention: str | None = None,
        attention_kwargs: dict | None = None,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if attention is not None and attention not in BLOCK_ATTENTIONS:
            raise ValueError(
                f"MobileNetV2: attention must be None or one of {BLOCK_ATTENTIONS} "
                f"(a block attention), got {attention!r}"
            )
        self.attention_name = attention
        layers: list[nn.Module] = [*_conv_bn_relu6(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                stride = s if i == 0 else 1
                layers.append(
                    InvertedResidual(cin, c, stride, t, attention, attention_kwargs)
                )
                cin = c
        layers += _conv_bn_relu6(cin, 1280, 1)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's initialisation; attention layers keep their own (see
        :meth:`attn_lib.models.ResNet._init_weights`).
        """
        gate_layers = {
            layer
            for module in self.modules()
            if isinstance(module, AttentionModule)
            for layer in module.modules()
        }
        for m in self.modules():
            if m in gate_layers:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean((2, 3)))

    def attention_modules(self) -> list[tuple[str, AttentionModule]]:
        """(qualified name, module) of every attention module, in forward order."""
        return attention_modules(self)


def mobilenet_v2(
    num_classes: int = 1000, attention: str | None = None, **kwargs
) -> MobileNetV2:
    """MobileNetV2 (3.50 M parameters at 1000 classes; 3.95 M with "coord"),
    optionally with attention.
    """
    return MobileNetV2(num_classes, attention, **kwargs)
