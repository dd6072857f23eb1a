"""Attention added to a ResNet you already have: torchvision's, timm's or this
library's.

    model = torchvision.models.resnet50(weights=...)   # any weights, loaded first
    attn_lib.add_attention(model, "cbam")              # 25.56 M -> 28.09 M parameters
    attn_lib.attention_modules(model)                  # the 16 CBAMs, in forward order

Each mechanism goes where its paper puts it (``Mechanism.placement`` in the registry):

- "block" (SE, sSE, scSE, CBAM, ECA, GE, SRM, FCA, CA, Triplet, GC): in every residual
  block (GC: of ``layer2``-``layer4``, its paper's c3-c5), on the residual branch after
  its last batch norm and before the addition. In torchvision's blocks the last batch
  norm (``bn2`` of a BasicBlock, ``bn3`` of a Bottleneck) becomes
  ``NormThenAttention(bn, gate)``, so that norm's state-dict keys gain a ``.0``; timm's
  blocks have a slot for it, ``se``, which their forward already calls at that point.
- "after-conv" (SimAM): right after each block's ``conv2`` (its 3×3 convolution),
  before ``bn2``: ``conv2`` becomes ``ConvThenAttention(conv2, module)`` and its keys
  gain a ``.0``.
- "between" (the non-local block): one block of its own before the last residual block
  of ``layer3`` (res4), which becomes ``nn.Sequential(non_local, block)``: that block's
  keys gain a ``.1``.
- "stage" (BAM): once after each of ``layer1``, ``layer2`` and ``layer3``, appended to
  the stage.
- "conv" (SK): not added. SK *replaces* a block's 3×3 convolution with new, untrained
  branches, so there is nothing of the existing network to keep; build
  ``models.sknet50()``.

The model is changed in place and returned. The new modules are freshly initialised
and in training mode; the rest of the network keeps its weights, so load pretrained
weights *before* adding attention, then fine-tune.
"""

from __future__ import annotations

from torch import nn

from .._base import AttentionModule
from ..registry import MECHANISMS, create

__all__ = ["ConvThenAttention", "NormThenAttention", "add_attention"]

# Attribute names that make a block a ResNet BasicBlock or Bottleneck, in torchvision
# and timm.
_BASIC = ("conv1", "bn1", "conv2", "bn2")
_BOTTLENECK = (*_BASIC, "conv3", "bn3")
_STAGES = ("layer1", "layer2", "layer3")


class NormThenAttention(nn.Sequential):
    """A block's last batch norm followed by an attention module:
    (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, norm: nn.Module, attention: nn.Module) -> None:
        super().__init__(norm, attention)


class ConvThenAttention(nn.Sequential):
    """A block's 3×3 convolution followed by an attention module (SimAM's place)."""

    def __init__(self, conv: nn.Module, attention: nn.Module) -> None:
        super().__init__(conv, attention)


def _last_norm_name(block: nn.Module) -> str | None:
    """ "bn3" for a Bottleneck, "bn2" for a BasicBlock, None for anything else."""
    if type(block).__name__ == "Bottleneck" and all(
        hasattr(block, a) for a in _BOTTLENECK
    ):
        return "bn3"
    if type(block).__name__ == "BasicBlock" and all(hasattr(block, a) for a in _BASIC):
        return "bn2"
    return None


def _is_timm(block: nn.Module) -> bool:
    return type(block).__module__.startswith("timm.") and hasattr(block, "se")


def _residual_blocks(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """(name, block, name of its last norm) of every torchvision or timm residual
    block.
    """
    return [
        (name, module, norm)
        for name, module in model.named_modules()
        if (norm := _last_norm_name(module)) is not None
    ]


def _channels(norm: nn.Module, where: str) -> int:
    if isinstance(norm, NormThenAttention):
        norm = norm[0]
    if not isinstance(norm, nn.modules.batchnorm._NormBase):
        raise ValueError(
            f"add_attention: expected a batch norm at {where}, "
            f"got {type(norm).__name__}"
        )
    return norm.num_features


def _in_stages(block_name: str, stages: tuple[int, ...]) -> bool:
    """Whether a block named like "layer2.0" (torchvision, timm) is in one of ``stages``
    (0-3: layer1-layer4)."""
    return any(block_name.startswith(f"layer{s + 1}.") for s in stages)


def _add_to_blocks(model: nn.Module, name: str, kwargs: dict) -> None:
    blocks = _residual_blocks(model)
    stages = MECHANISMS[name].stages
    if stages != (0, 1, 2, 3):
        blocks = [b for b in blocks if _in_stages(b[0], stages)]
    if not blocks:
        raise ValueError(
            "add_attention: found no residual block it recognises in "
            f"{type(model).__name__}; expected a torchvision or timm ResNet, whose "
            "blocks are named BasicBlock (conv1, bn1, conv2, bn2) or Bottleneck "
            "(conv1..conv3, bn1..bn3). For this library's own networks pass "
            "attention= to attn_lib.models.resnet18/resnet50 instead"
        )
    after_conv = MECHANISMS[name].placement == "after-conv"
    for block_name, block, norm_name in blocks:
        norm = getattr(block, norm_name)
        if isinstance(norm, NormThenAttention) or isinstance(
            block.conv2, ConvThenAttention
        ) or (_is_timm(block) and block.se is not None):
            raise ValueError(
                f"add_attention: block {block_name!r} already has attention; "
                "add one mechanism per network"
            )
        if after_conv:
            module = create(name, block.conv2.out_channels, **kwargs)
            block.conv2 = ConvThenAttention(block.conv2, module)
            continue
        module = create(name, _channels(norm, f"{block_name}.{norm_name}"), **kwargs)
        if _is_timm(block):
            block.se = (
                module  # timm's forward: bn3 (or bn2), then se, then the addition
            )
        else:
            setattr(block, norm_name, NormThenAttention(norm, module))


def _add_to_stages(model: nn.Module, name: str, kwargs: dict) -> None:
    stages = [getattr(model, s, None) for s in _STAGES]
    if not all(isinstance(s, nn.Sequential) for s in stages) or not _residual_blocks(
        model
    ):
        raise ValueError(
            f"add_attention: {name} goes after each of layer1, layer2 and layer3, and "
            f"{type(model).__name__} has no such stages of residual blocks; expected a "
            "torchvision or timm ResNet"
        )
    for stage_name, stage in zip(_STAGES, stages):
        if any(isinstance(m, AttentionModule) for m in stage.children()):
            raise ValueError(f"add_attention: {stage_name} already ends with attention")
        last_block = [m for m in stage.children() if _last_norm_name(m) is not None][-1]
        norm_name = _last_norm_name(last_block)
        channels = _channels(
            getattr(last_block, norm_name), f"{stage_name}'s last block"
        )
        stage.append(create(name, channels, **kwargs))


def _add_before_last_block(model: nn.Module, name: str, kwargs: dict) -> None:
    if any(isinstance(m, AttentionModule) for m in model.modules()):
        raise ValueError("add_attention: the model already has attention; add one "
                         "mechanism per network")
    stage = getattr(model, "layer3", None)
    blocks = [m for m in stage.children()] if isinstance(stage, nn.Sequential) else []
    if not blocks or _last_norm_name(blocks[-1]) is None:
        raise ValueError(
            f"add_attention: {name} goes before the last residual block of layer3 "
            f"(res4), and {type(model).__name__} has no such stage; expected a "
            "torchvision or timm ResNet"
        )
    last = blocks[-1]
    module = create(name, last.conv1.in_channels, **kwargs)
    stage[len(blocks) - 1] = nn.Sequential(module, last)


def add_attention(model: nn.Module, name: str, **kwargs) -> nn.Module:
    """Insert the registered mechanism ``name`` into a torchvision or timm ResNet, in
    place.

    Args:
        model: a ResNet from ``torchvision.models`` (resnet18 ... resnet152, resnext,
            wide_resnet) or from timm (``timm.create_model("resnet50")`` and kin).
        name: a registered mechanism (see :func:`attn_lib.mechanisms`).
        **kwargs: its hyper-parameters, e.g. ``reduction=8``; the paper's defaults
            otherwise.

    Returns:
        ``model`` itself, with the new modules listed by
        :func:`attn_lib.attention_modules`.

    Raises:
        ValueError: an unknown name, a mechanism that replaces a convolution (SK), a
            model without recognisable residual blocks (or stages, for BAM), or a model
            that already has attention where this one would go.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"add_attention: expected a torch.nn.Module, got {type(model).__name__}"
        )
    key = name.lower() if isinstance(name, str) else name
    if key not in MECHANISMS:
        raise ValueError(
            f"add_attention: unknown attention {name!r}; expected one of: "
            f"{', '.join(MECHANISMS)}"
        )
    placement = MECHANISMS[key].placement
    if placement == "conv":
        raise ValueError(
            f"add_attention: {key} replaces each block's 3×3 convolution with new "
            "selective-kernel branches instead of gating the block's output, so it "
            "cannot be added to a trained network; build the paper's network with "
            "attn_lib.models.sknet50() (or "
            f"attn_lib.models.resnet50(attention={key!r}))"
        )
    if placement == "stage":
        _add_to_stages(model, key, kwargs)
    elif placement == "between":
        _add_before_last_block(model, key, kwargs)
    else:
        _add_to_blocks(model, key, kwargs)
    return model
