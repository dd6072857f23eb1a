"""Networks that take any registered attention by name."""

from .insert import ConvThenAttention, NormThenAttention, add_attention
from .mobilenet import MobileNetV2, mobilenet_v2
from .resnet import ResNet, resnet18, resnet50, sknet50
from .unet import UNet

__all__ = [
    "ConvThenAttention",
    "MobileNetV2",
    "NormThenAttention",
    "ResNet",
    "UNet",
    "add_attention",
    "mobilenet_v2",
    "resnet18",
    "resnet50",
    "sknet50",
]
