"""attn_lib: channel and spatial attention modules for CNNs, faithful to their papers.

Every module takes ``channels`` first, maps (N, C, H, W) to (N, C, H, W), and returns the gates
it computed from ``module.attention(x)``. Build one by name with :func:`create`, put one into a
torchvision or timm ResNet with :func:`add_attention`, or build a network with
``attn_lib.models.resnet50(attention=...)``.

The top level is the library (``_base.py``, ``registry.py``, one file per mechanism,
``models/``) and imports torch alone. What serves the book lives in subpackages imported on
demand: ``lab`` (tasks, training, shipped models), ``viz`` (figures, widgets, diagrams),
``bench`` (the benchmark) and ``book`` (helpers for the pages).
"""

from . import models
from ._base import AttentionModule, attention_modules
from .bam import BAM
from .cbam import CBAM, ChannelAttention, SpatialAttention
from .coord import CoordinateAttention
from .eca import ECA, eca_kernel_size
from .fca import FrequencyChannelAttention, dct_basis, dct_pool
from .gc import GlobalContext
from .ge import GatherExcite
from .models.insert import add_attention
from .nonlocal_block import NonLocal
from .registry import MECHANISMS, Mechanism, create, mechanisms
from .scse import SCSE
from .se import SqueezeExcitation
from .simam import SimAM
from .sk import SelectiveKernel
from .srm import SRM
from .sse import SpatialSqueezeExcitation
from .triplet import TripletAttention

__version__ = "0.1.0"

__all__ = [
    "AttentionModule", "BAM", "CBAM", "ChannelAttention", "CoordinateAttention", "ECA",
    "FrequencyChannelAttention", "GatherExcite", "GlobalContext", "MECHANISMS", "Mechanism",
    "NonLocal", "SCSE", "SRM", "SelectiveKernel", "SimAM", "SpatialAttention",
    "SpatialSqueezeExcitation", "SqueezeExcitation", "TripletAttention",
    "add_attention", "attention_modules", "create", "dct_basis", "dct_pool",
    "eca_kernel_size", "mechanisms", "models",
]
