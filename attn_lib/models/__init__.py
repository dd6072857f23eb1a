"""Networks that take any registered attention by name."""

from .resnet import ResNet, resnet18, resnet50, sknet50
from .unet import UNet

__all__ = ["ResNet", "UNet", "resnet18", "resnet50", "sknet50"]
