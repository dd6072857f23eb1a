"""ResNets that take any registered attention by name, placed where each paper places
it.

He, Zhang, Ren, Sun. "Deep Residual Learning for Image Recognition". CVPR 2016.
Xie, Girshick, Dollár, Tu, He. "Aggregated Residual Transformations for Deep Neural
Networks" (ResNeXt). CVPR 2017. SKNet-50 is ResNeXt-50 (32×4d) with every grouped 3×3
convolution replaced by a selective-kernel convolution (Li et al., CVPR 2019).

Placement:
- "se", "cbam", "eca", "sse", "scse", "ge", "srm", "fca", "coord": inside every
  residual block, on the residual branch after its last batch norm and before the
  addition (SE Fig. 3, CBAM Fig. 3, ECA Fig. 2; GE's RN50-GEP*.prototxt, SRM's and
  FcaNet's models/*.py, CA as SE).
- "gc": the same place, in the blocks of stages c3-c5 only (the authors' resnet.py
  and configs: after conv3 and norm3, ``stage_with_gcb=(False, True, True, True)``).
- "triplet": the same place, in every block (the authors' MODELS/resnet.py).
- "simam": right after each block's 3×3 convolution (a BasicBlock's second), before its
  batch norm, as the authors' ResNets place it.
- "nonlocal": one non-local block, a residual block of its own, right before the last
  residual block of res4 (the third stage), as the paper's image models place it
  (Sec. 5, Mask R-CNN); with one block per stage, at that stage's input.
- "bam": once at each of the three boundaries between the four stages (BAM Fig. 1).
- "sk": SK is a convolution, not a gate: it replaces each block's (first) 3×3
  convolution, as SKNet does in ResNeXt's bottleneck; :func:`sknet50` is the paper's
  network.
"""

from __future__ import annotations

from typing import Callable

from torch import Tensor, nn

from .._base import AttentionModule, attention_modules
from ..registry import MECHANISMS, create
from ..sk import SelectiveKernel

__all__ = ["ResNet", "resnet18", "resnet50", "sknet50", "BasicBlock", "Bottleneck"]

# Each registered mechanism goes where its paper places it (Mechanism.placement).
BLOCK_ATTENTIONS = tuple(n for n, m in MECHANISMS.items() if m.placement == "block")
STAGE_ATTENTIONS = tuple(n for n, m in MECHANISMS.items() if m.placement == "stage")
CONV_ATTENTIONS = tuple(n for n, m in MECHANISMS.items() if m.placement == "conv")
AFTER_CONV_ATTENTIONS = tuple(
    n for n, m in MECHANISMS.items() if m.placement == "after-conv"
)
BETWEEN_ATTENTIONS = tuple(
    n for n, m in MECHANISMS.items() if m.placement == "between"
)

# Builds the attention module of a block from its channel count; None means no
# attention.
AttentionFactory = Callable[[int], nn.Module] | None
# Builds a block's 3×3 convolution with BN and ReLU from (in, out, stride, groups).
ConvFactory = Callable[[int, int, int, int], list[nn.Module]]


def conv3x3_bn_relu(cin: int, cout: int, stride: int, groups: int) -> list[nn.Module]:
    """The plain 3×3 convolution a block uses when it has no selective kernel."""
    return [*_conv_bn(cin, cout, 3, stride, groups), nn.ReLU(inplace=True)]


def _conv_bn(
    cin: int, cout: int, kernel_size: int, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    return [
        nn.Conv2d(
            cin,
            cout,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(cout),
    ]


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    return nn.Sequential(*_conv_bn(cin, cout, 1, stride))


class BasicBlock(nn.Module):
    """Two 3×3 convolutions (ResNet-18/34):
    x (N, C_in, H, W) -> (N, planes, H/s, W/s).
    """

    expansion = 1

    def __init__(
        self,
        cin: int,
        planes: int,
        stride: int = 1,
        attention: AttentionFactory = None,
        conv3x3: ConvFactory = conv3x3_bn_relu,
        after_conv: AttentionFactory = None,
    ) -> None:
        super().__init__()
        second = _conv_bn(planes, planes, 3)
        if after_conv:  # between the second 3×3 convolution and its batch norm
            second.insert(1, after_conv(planes))
        self.residual = nn.Sequential(*conv3x3(cin, planes, stride, 1), *second)
        self.attention = attention(planes) if attention else nn.Identity()
        self.shortcut = _shortcut(cin, planes, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.attention(self.residual(x)) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3 (optionally grouped, or an SK convolution), 1×1 expand by 4.

    x (N, C_in, H, W) -> (N, 4·planes, H/s, W/s). With ``groups=G, width_per_group=w``
    the 3×3 layer has ``planes·w/64·G`` channels (ResNeXt's "G×w d").
    """

    expansion = 4

    def __init__(
        self,
        cin: int,
        planes: int,
        stride: int = 1,
        attention: AttentionFactory = None,
        conv3x3: ConvFactory = conv3x3_bn_relu,
        groups: int = 1,
        width_per_group: int = 64,
        after_conv: AttentionFactory = None,
    ) -> None:
        super().__init__()
        width = planes * width_per_group // 64 * groups
        cout = planes * self.expansion
        middle = conv3x3(width, width, stride, groups)
        if after_conv:  # between the 3×3 convolution and its batch norm
            middle.insert(1, after_conv(width))
        self.residual = nn.Sequential(
            *_conv_bn(cin, width, 1),
            nn.ReLU(inplace=True),
            *middle,
            *_conv_bn(width, cout, 1),
        )
        self.attention = attention(cout) if attention else nn.Identity()
        self.shortcut = _shortcut(cin, cout, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.attention(self.residual(x)) + self.shortcut(x))


class ResNet(nn.Module):
    """A ResNet for images x (N, 3, H, W) -> logits (N, num_classes).

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. (3, 4, 6, 3) for ResNet-50.
        num_classes: size of the classifier. ImageNet: 1000.
        attention: None or a registered name; see the module docstring for where it
            goes.
        attention_kwargs: keywords for every attention module (e.g. ``reduction=8``).
        stem: "imagenet" (7×7 stride-2 convolution and max pool, 4× downsampling)
            or "small" (one 3×3 convolution, no downsampling), for 32-64 pixel
            images.
        width: channels of the stem and the first stage (doubling at each stage).
            Default 64.
        block_kwargs: passed to every block (Bottleneck's groups and width_per_group).
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        attention: str | None = None,
        attention_kwargs: dict | None = None,
        stem: str = "imagenet",
        width: int = 64,
        **block_kwargs,
    ) -> None:
        super().__init__()
        known = (
            BLOCK_ATTENTIONS + STAGE_ATTENTIONS + CONV_ATTENTIONS
            + AFTER_CONV_ATTENTIONS + BETWEEN_ATTENTIONS
        )
        if attention is not None and attention not in known:
            raise ValueError(
                f"ResNet: attention must be None or one of {known}, got {attention!r}"
            )
        if stem not in ("imagenet", "small"):
            raise ValueError(
                f"ResNet: stem must be 'imagenet' or 'small', got {stem!r}"
            )
        kwargs = attention_kwargs or {}
        factory = (
            (lambda c: create(attention, c, **kwargs))
            if attention in BLOCK_ATTENTIONS + AFTER_CONV_ATTENTIONS
            else None
        )
        # The stages whose blocks get it (GC: c3-c5 only).
        with_attention = MECHANISMS[attention].stages if factory else ()
        factory_key = (
            "after_conv" if attention in AFTER_CONV_ATTENTIONS else "attention"
        )
        if attention in CONV_ATTENTIONS:
            block_kwargs["conv3x3"] = lambda cin, cout, stride, groups: [
                create(
                    attention,
                    cin,
                    out_channels=cout,
                    stride=stride,
                    **{"groups": groups, **kwargs},
                )
            ]
        self.attention_name = attention
        if stem == "imagenet":
            self.stem = nn.Sequential(
                *_conv_bn(3, width, 7, 2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, padding=1),
            )
        else:
            self.stem = nn.Sequential(*_conv_bn(3, width, 3), nn.ReLU(inplace=True))
        stages, cin = [], width
        for i, blocks in enumerate(layers):
            planes, stride = width * 2**i, 1 if i == 0 else 2
            stage, stage_input = [], cin
            for j in range(blocks):
                stage.append(
                    block(
                        cin,
                        planes,
                        stride if j == 0 else 1,
                        **{factory_key: factory if i in with_attention else None},
                        **block_kwargs,
                    )
                )
                cin = planes * block.expansion
            if attention in BETWEEN_ATTENTIONS and i == 2:
                # Its own residual block, before the stage's last block, on that block's
                # input (the previous stage's output when the stage has one block).
                last_input = cin if blocks > 1 else stage_input
                stage.insert(len(stage) - 1, create(attention, last_input, **kwargs))
            stages.append(nn.Sequential(*stage))
        self.stages = nn.ModuleList(stages)
        # BAM sits after stages 1-3, on the features passed to the next stage.
        boundary_channels = [
            width * 2**i * block.expansion for i in range(len(layers) - 1)
        ]
        self.stage_attention = nn.ModuleList(
            (
                create(attention, c, **kwargs)
                if attention in STAGE_ATTENTIONS
                else nn.Identity()
            )
            for c in boundary_channels
        )
        self.head = nn.Linear(cin, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """He et al.'s initialisation for the network's own convolutions; attention
        layers keep theirs.

        Kaiming fan-out gives a C→1 convolution weights of standard deviation √2:
        sSE's and BAM's gates would start saturated, most values below 0.05 or above
        0.95, before any training. So the layers that compute a gate keep the
        initialisation their module gives them (PyTorch's default unless the paper says
        otherwise). SK's branches are the block's 3×3 convolutions, not a gate, and are
        initialised as such.
        """
        gate_layers = {
            layer
            for module in self.modules()
            if isinstance(module, AttentionModule)
            for layer in module.modules()
        }
        for module in self.modules():
            if isinstance(module, SelectiveKernel):
                gate_layers -= set(module.branches.modules())
        for m in self.modules():
            if m in gate_layers:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def features(self, x: Tensor) -> Tensor:
        """x (N, 3, H, W) -> the last stage's feature map (N, C_last, H', W')."""
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i < len(self.stage_attention):
                x = self.stage_attention[i](x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean((2, 3)))

    def attention_modules(self) -> list[tuple[str, AttentionModule]]:
        """(qualified name, module) of every attention module, in forward order."""
        return attention_modules(self)


def resnet18(num_classes: int = 1000, attention: str | None = None, **kwargs) -> ResNet:
    """ResNet-18 (11.69 M parameters at 1000 classes), optionally with attention."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, attention, **kwargs)


def resnet50(num_classes: int = 1000, attention: str | None = None, **kwargs) -> ResNet:
    """ResNet-50 (25.56 M parameters at 1000 classes), optionally with attention."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, attention, **kwargs)


def sknet50(num_classes: int = 1000, **kwargs) -> ResNet:
    """SKNet-50: ResNeXt-50 (32×4d) with SK convolutions
    (M = 2, G = 32, r = 16, L = 32).

    27.5 M parameters at 1000 classes, as the SKNet paper reports.
    """
    return ResNet(
        Bottleneck,
        (3, 4, 6, 3),
        num_classes,
        "sk",
        groups=32,
        width_per_group=4,
        **kwargs,
    )
