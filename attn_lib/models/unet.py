"""A small U-Net for segmentation, with attention in the encoder, the decoder, or both.

Ronneberger, Fischer, Brox. "U-Net: Convolutional Networks for Biomedical Image
Segmentation". MICCAI 2015. Roy et al. (MICCAI 2018) add an scSE block after every
encoder and decoder block.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .._base import AttentionModule, attention_modules
from ..registry import create

__all__ = ["UNet"]

PLACES = ("encoder", "decoder")


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net: x (N, in_channels, H, W) -> per-pixel logits (N, num_classes, H, W).

    H and W need not be multiples of 2**depth: decoder maps are resized to their skip's
    size.

    Args:
        in_channels, num_classes: input channels and output classes.
        width: channels of the first level; each level doubles them. Default 16.
        depth: number of downsamplings. Default 3.
        attention: None or a registered name, applied after every double convolution of
            the places chosen. Default None.
        places: where attention goes: ("encoder",), ("decoder",) or both (the default,
            as Roy et al. do).
        attention_kwargs: keywords for every attention module (e.g. ``reduction=2``).
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        width: int = 16,
        depth: int = 3,
        attention: str | None = None,
        places: tuple[str, ...] = PLACES,
        attention_kwargs: dict | None = None,
    ) -> None:
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(
                "UNet: depth and width must be positive, "
                f"got depth={depth!r}, width={width!r}"
            )
        unknown = set(places) - set(PLACES)
        if unknown or not places:
            raise ValueError(
                f"UNet: places must be a non-empty subset of {PLACES}, got {places!r}"
            )
        kwargs = attention_kwargs or {}

        def gate(c: int, place: str) -> nn.Module:
            return (
                create(attention, c, **kwargs)
                if attention and place in places
                else nn.Identity()
            )

        widths = [width * 2**i for i in range(depth + 1)]
        self.encoder = nn.ModuleList()
        self.encoder_attention = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.encoder.append(_double_conv(cin, w))
            self.encoder_attention.append(gate(w, "encoder"))
            cin = w
        self.up = nn.ModuleList()
        self.decoder = nn.ModuleList()
        self.decoder_attention = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(cin, w, 2, stride=2))
            self.decoder.append(_double_conv(2 * w, w))
            self.decoder_attention.append(gate(w, "decoder"))
            cin = w
        self.head = nn.Conv2d(cin, num_classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for i, (block, attention) in enumerate(
            zip(self.encoder, self.encoder_attention)
        ):
            if i:
                x = F.max_pool2d(x, 2)
            x = attention(block(x))
            skips.append(x)
        for up, block, attention, skip in zip(
            self.up, self.decoder, self.decoder_attention, reversed(skips[:-1])
        ):
            x = up(x)
            if x.shape[-2:] != skip.shape[-2:]:
                x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = attention(block(torch.cat([skip, x], dim=1)))
        return self.head(x)

    def attention_modules(self) -> list[tuple[str, AttentionModule]]:
        """(qualified name, module) of every attention module, in forward order."""
        return attention_modules(self)
