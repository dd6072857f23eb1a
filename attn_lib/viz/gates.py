"""The gates of a whole model, and the helpers every figure shares to read them."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .._base import AttentionModule, attention_modules

__all__ = ["collect_attention", "spatial_map", "channel_values", "as_batch", "rgb", "select_layers"]


def collect_attention(model: nn.Module, x: Tensor) -> dict[str, dict[str, Tensor]]:
    """The gates of every attention module of ``model`` for input ``x``, in one forward pass.

    Args:
        model: any network (or a single attention module); its modules are found with
            :func:`attn_lib.attention_modules`. It runs in eval mode (each module's mode is
            restored afterwards), so batch norms use their running statistics.
        x: the model's input, e.g. images (N, 3, H, W).

    Returns:
        ``{layer name: module.attention(input of that layer)}`` in forward order, e.g.
        ``{"stages.0.0.attention": {"channel": (N, C, 1, 1), "spatial": (N, 1, H', W')}}``
        (see :meth:`attn_lib.AttentionModule.attention` for the keys). A module that the
        forward pass does not call is absent.
    """
    found = attention_modules(model)
    if not found:
        raise ValueError(f"{type(model).__name__} has no attention module (was it built with attention=None?)")
    gates: dict[str, dict[str, Tensor]] = {}

    def hook_for(name: str):
        # attention() needs the module's *input*: a pre-hook sees it before anything can
        # modify it in place, and attention() calls forward_with_attention, so no recursion.
        def hook(module: AttentionModule, args: tuple) -> None:
            gates[name] = module.attention(args[0])
        return hook

    modes = {m: m.training for m in model.modules()}
    handles = [m.register_forward_pre_hook(hook_for(name or type(m).__name__)) for name, m in found]
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes.items():
            m.training = training
    return gates



def as_batch(images: Tensor) -> Tensor:
    if not isinstance(images, Tensor) or images.dim() not in (3, 4) or images.shape[-3] != 3:
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"expected images of shape (N, 3, H, W) or (3, H, W), got {got}")
    return images if images.dim() == 4 else images[None]


def rgb(image: Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (H, W, 3) for imshow."""
    return image.permute(1, 2, 0).clamp(0, 1).numpy()


def select_layers(available: Sequence[str], layers: Sequence[str] | None, what: str) -> list[str]:
    if not available:
        raise ValueError(f"the model has no attention module with {what}")
    if layers is None:
        return list(available)
    missing = [name for name in layers if name not in available]
    if missing:
        raise ValueError(f"no layer named {missing} has {what}; layers with {what}: {list(available)}")
    return list(layers)


def channel_values(gates: dict[str, Tensor]) -> tuple[Tensor, str] | None:
    """(N, C) per-channel values to plot and their axis label; None if the module has none.

    BAM's M_c is a logit: the gate it feeds is σ(M_c + M_s), so σ(M_c) alone multiplies
    nothing; the logit is what BAM's channel branch computes.
    """
    if "channel" not in gates:
        return None
    if "combined" in gates:
        return gates["channel"].flatten(1), "BAM channel logit $M_c$\n(before σ)"
    return gates["channel"].flatten(1), "channel gate"


def spatial_map(gates: dict[str, Tensor]) -> tuple[Tensor, str] | None:
    """The spatial map a module's gates imply, as the figures draw it: (N, 1, H', W') in (0, 1) and
    its name; None if the module has none.

    For BAM the mean over channels of the gate it multiplies by, σ(M_c + M_s); its M_s is a
    logit that never multiplies anything alone.
    """
    if "combined" in gates:
        return gates["combined"].mean(1, keepdim=True), r"mean$_c\,\sigma(M_c + M_s)$"
    if "spatial" in gates:
        return gates["spatial"], "spatial gate"
    return None
