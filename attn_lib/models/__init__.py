"""Networks that take any registered attention by name."""

from .insert import NormThenAttention, add_attention
from .resnet import ResNet, resnet18, resnet50, sknet50
from .unet import UNet

__all__ = [
    "NormThenAttention",
    "ResNet",
    "UNet",
    "add_attention",
    "resnet18",
    "resnet50",
    "sknet50",
]
