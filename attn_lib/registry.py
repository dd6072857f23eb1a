"""One name per mechanism: build any attention module with
``create(name, channels, **kw)``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from ._base import AttentionModule
from .bam import BAM
from .cbam import CBAM
from .coord import CoordinateAttention
from .eca import ECA
from .fca import FrequencyChannelAttention
from .gc import GlobalContext
from .ge import GatherExcite
from .nonlocal_block import NonLocal
from .scse import SCSE
from .se import SqueezeExcitation
from .simam import SimAM
from .sk import SelectiveKernel
from .srm import SRM
from .sse import SpatialSqueezeExcitation
from .triplet import TripletAttention

__all__ = ["Mechanism", "MECHANISMS", "create", "mechanisms"]


@dataclass(frozen=True)
class Mechanism:
    """A registered mechanism and the paper that defines it."""

    name: str
    module: type[AttentionModule]
    title: str
    authors: str
    venue: str
    year: int
    citation_key: str  # key in the book's references.bib
    url: str
    # Where the paper puts it in a ResNet: "block" (on the residual branch, before the
    # addition), "stage" (once at each boundary between stages), "conv" (it replaces
    # the 3×3 convolution), "after-conv" (right after the 3×3 convolution, before its
    # batch norm) or "between" (a residual block of its own, before the last block of
    # the third stage, res4).
    placement: str = "block"
    # The stages (0-3: res2-res5) whose blocks get it, for "block" and "after-conv".
    stages: tuple[int, ...] = (0, 1, 2, 3)


# sSE and scSE come from one paper.
_ROY_2018 = (
    "Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully "
    "Convolutional Networks",
    "Roy, Navab, Wachinger",
    "MICCAI",
    2018,
    "roy2018concurrent",
    "https://arxiv.org/abs/1803.02579",
)

MECHANISMS: dict[str, Mechanism] = {
    m.name: m
    for m in (
        Mechanism(
            "se",
            SqueezeExcitation,
            "Squeeze-and-Excitation Networks",
            "Hu, Shen, Sun",
            "CVPR",
            2018,
            "hu2018squeeze",
            "https://arxiv.org/abs/1709.01507",
        ),
        Mechanism(
            "sse",
            SpatialSqueezeExcitation,
            *_ROY_2018,
        ),
        Mechanism(
            "scse",
            SCSE,
            *_ROY_2018,
        ),
        Mechanism(
            "cbam",
            CBAM,
            "CBAM: Convolutional Block Attention Module",
            "Woo, Park, Lee, Kweon",
            "ECCV",
            2018,
            "woo2018cbam",
            "https://arxiv.org/abs/1807.06521",
        ),
        Mechanism(
            "bam",
            BAM,
            "BAM: Bottleneck Attention Module",
            "Park, Woo, Lee, Kweon",
            "BMVC",
            2018,
            "park2018bam",
            "https://arxiv.org/abs/1807.06514",
            placement="stage",
        ),
        Mechanism(
            "sk",
            SelectiveKernel,
            "Selective Kernel Networks",
            "Li, Wang, Hu, Yang",
            "CVPR",
            2019,
            "li2019selective",
            "https://arxiv.org/abs/1903.06586",
            placement="conv",
        ),
        Mechanism(
            "eca",
            ECA,
            "ECA-Net: Efficient Channel Attention for Deep Convolutional "
            "Neural Networks",
            "Wang, Wu, Zhu, Li, Zuo, Hu",
            "CVPR",
            2020,
            "wang2020eca",
            "https://arxiv.org/abs/1910.03151",
        ),
        # Part II: four mechanisms that rethink SE's squeeze.
        Mechanism(
            "ge",
            GatherExcite,
            "Gather-Excite: Exploiting Feature Context in Convolutional Neural "
            "Networks",
            "Hu, Shen, Albanie, Sun, Vedaldi",
            "NeurIPS",
            2018,
            "hu2018gather",
            "https://arxiv.org/abs/1810.12348",
        ),
        Mechanism(
            "srm",
            SRM,
            "SRM: A Style-based Recalibration Module for Convolutional Neural "
            "Networks",
            "Lee, Kim, Nam",
            "ICCV",
            2019,
            "lee2019srm",
            "https://arxiv.org/abs/1903.10829",
        ),
        Mechanism(
            "fca",
            FrequencyChannelAttention,
            "FcaNet: Frequency Channel Attention Networks",
            "Qin, Zhang, Wu, Li",
            "ICCV",
            2021,
            "qin2021fcanet",
            "https://arxiv.org/abs/2012.11879",
        ),
        Mechanism(
            "coord",
            CoordinateAttention,
            "Coordinate Attention for Efficient Mobile Network Design",
            "Hou, Zhou, Feng",
            "CVPR",
            2021,
            "hou2021coordinate",
            "https://arxiv.org/abs/2103.02907",
        ),
        # Part II, beyond pooled gates.
        Mechanism(
            "triplet",
            TripletAttention,
            "Rotate to Attend: Convolutional Triplet Attention Module",
            "Misra, Nalamada, Arasanipalai, Hou",
            "WACV",
            2021,
            "misra2021rotate",
            "https://arxiv.org/abs/2010.03045",
        ),
        Mechanism(
            "simam",
            SimAM,
            "SimAM: A Simple, Parameter-Free Attention Module for Convolutional "
            "Neural Networks",
            "Yang, Zhang, Li, Xie",
            "ICML",
            2021,
            "yang2021simam",
            "https://proceedings.mlr.press/v139/yang21o.html",
            placement="after-conv",
        ),
        Mechanism(
            "nonlocal",
            NonLocal,
            "Non-local Neural Networks",
            "Wang, Girshick, Gupta, He",
            "CVPR",
            2018,
            "wang2018nonlocal",
            "https://arxiv.org/abs/1711.07971",
            placement="between",
        ),
        Mechanism(
            "gc",
            GlobalContext,
            "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond",
            "Cao, Xu, Lin, Wei, Hu",
            "ICCV Workshops",
            2019,
            "cao2019gcnet",
            "https://arxiv.org/abs/1904.11492",
            stages=(1, 2, 3),
        ),
    )
}


def mechanisms() -> list[Mechanism]:
    """Every registered mechanism, in the book's chapter order."""
    return list(MECHANISMS.values())


def create(name: str, channels: int, **kwargs) -> AttentionModule:
    """Build the attention module registered as ``name`` for ``channels`` input
    channels.

    >>> create("se", 64, reduction=8)
    SqueezeExcitation(...)

    Raises ValueError, listing the known names, if ``name`` is not registered.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in MECHANISMS:
        raise ValueError(
            f"unknown attention {name!r}; expected one of: {', '.join(MECHANISMS)}"
        )
    module = MECHANISMS[key].module
    accepted = list(inspect.signature(module).parameters)[1:]
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise TypeError(
            f"{key} ({module.__name__}) got unexpected keyword(s) {unknown}; "
            f"it accepts {accepted}"
        )
    return module(channels, **kwargs)
