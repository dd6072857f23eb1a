"""attn_lib: channel and spatial attention modules for CNNs, faithful to their papers.

Every module takes ``channels`` first, maps (N, C, H, W) to (N, C, H, W), and returns the gates
it computed from ``module.attention(x)``. Build one by name with :func:`create`.
"""

from ._base import AttentionModule, attention_modules
from .bam import BAM
from .cbam import CBAM, ChannelAttention, SpatialAttention
from .eca import ECA, eca_kernel_size
from .registry import MECHANISMS, Mechanism, create, mechanisms
from .scse import SCSE
from .se import SqueezeExcitation
from .sk import SelectiveKernel
from .sse import SpatialSqueezeExcitation

__version__ = "0.1.0"

__all__ = [
    "AttentionModule", "BAM", "attention_modules", "CBAM", "ChannelAttention", "ECA", "MECHANISMS", "Mechanism",
    "SCSE", "SelectiveKernel", "SpatialAttention", "SpatialSqueezeExcitation", "SqueezeExcitation",
    "create", "eca_kernel_size", "mechanisms",
]
