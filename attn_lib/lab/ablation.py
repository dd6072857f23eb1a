"""Do the gates mean something? Replace every gate by its average and see what is lost.

If a trained network's gates carry information about each image, fixing every gate at its
mean over the validation set (the same gate for every image) should cost accuracy; if the
gates are the same for every image anyway, nothing changes. :func:`mean_gates` computes the
averages, :func:`fixed_gates` runs a model with them in place of the per-image gates.

How a fixed gate is applied follows each module's own equation:

- SE, ECA: ``x · s̄``; sSE: ``x · q̄``; CBAM: ``x · M̄_c`` then ``· M̄_s`` (both halves fixed);
- scSE (add): ``x · (s̄ + q̄)``; max and mul as their equations with the fixed gates;
- BAM: ``x · (1 + M̄)`` with M̄ the mean of the combined 3-D gate;
- SK: ``Σ_m ā_m ⊙ U_m``: the branches still run, their mixing weights are fixed;
- GE, SRM, FCA: ``x · ḡ`` (GE with a finite extent: its mean 3-D gate); Coordinate
  Attention: ``x · ā_h · ā_w``;
- Triplet Attention: ``x · (ḡ_H + ḡ_W + ḡ_C) / 3``; SimAM: ``x · ḡ``;
- Non-local: ``BN(W_z Ā g(x)) + x``: the values g(x) are still the image's, the attention
  matrix is the mean one; GC: ``x + t̄`` (or ``x · t̄`` with multiplicative fusion), the
  transformed context fixed.

A spatial gate's mean is a map: the same (1, 1, H, W) for every image, so this keeps the
average "where" and removes the per-image "where".
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import Tensor, nn

from .._base import AttentionModule, attention_modules
from ..bam import BAM
from ..cbam import CBAM, ChannelAttention, SpatialAttention
from ..gc import GlobalContext
from ..nonlocal_block import NonLocal
from ..scse import SCSE
from ..sk import SelectiveKernel
from ..triplet import TripletAttention
from ..viz.gates import collect_attention

__all__ = ["mean_gates", "fixed_gates"]


@torch.no_grad()
def mean_gates(model: nn.Module, images: Tensor, chunk: int = 250) -> dict[str, dict[str, Tensor]]:
    """{module name: {gate kind: mean over ``images`` (batch dimension kept, size 1)}}."""
    sums: dict[str, dict[str, Tensor]] = {}
    for i in range(0, len(images), chunk):
        for name, gates in collect_attention(model, images[i:i + chunk]).items():
            slot = sums.setdefault(name, {})
            for kind, g in gates.items():
                total = g.sum(0, keepdim=True)
                slot[kind] = slot[kind] + total if kind in slot else total
    n = len(images)
    return {name: {k: v / n for k, v in g.items()} for name, g in sums.items()}


def _apply_fixed(module: AttentionModule, gates: dict[str, Tensor], x: Tensor) -> Tensor:
    if isinstance(module, SelectiveKernel):
        a = gates["branch"]  # (1, M, C)
        feats = [branch(x) for branch in module.branches]
        c = module.out_channels
        return sum(f * a[:, m].view(1, c, 1, 1) for m, f in enumerate(feats))
    if isinstance(module, BAM):
        return (1 + gates["combined"]) * x
    if isinstance(module, SCSE):
        s, q = gates["channel"], gates["spatial"]
        if module.aggregation == "add":
            return (s + q) * x
        if module.aggregation == "max":
            return torch.maximum(x * s, x * q)
        return (x * s) * (x * q)
    if isinstance(module, CBAM):
        if "channel" in gates:
            x = gates["channel"] * x
        if "spatial" in gates:
            x = gates["spatial"] * x
        return x
    if isinstance(module, TripletAttention):
        return x * sum(gates.values()) / len(gates)
    if isinstance(module, NonLocal):
        values = module.pool(module.g(x)).flatten(2).transpose(1, 2)
        return module._respond(x, gates["pairwise"] @ values)
    if isinstance(module, GlobalContext):
        return x + gates["transform"] if module.fusion == "add" else x * gates["transform"]
    if set(gates) == {"neuron"}:  # SimAM
        return gates["neuron"] * x
    if set(gates) == {"height", "width"}:  # Coordinate Attention: x · a_h · a_w
        return x * gates["height"] * gates["width"]
    if set(gates) == {"local"}:  # Gather-Excite with a finite extent: a 3-D gate
        return gates["local"] * x
    if isinstance(module, (ChannelAttention,)) or "channel" in gates and len(gates) == 1:
        return gates["channel"] * x
    if isinstance(module, SpatialAttention) or "spatial" in gates and len(gates) == 1:
        return gates["spatial"] * x
    raise TypeError(f"fixed_gates: no rule for {type(module).__name__} with gates {list(gates)}")


@contextmanager
def fixed_gates(model: nn.Module, means: dict[str, dict[str, Tensor]]):
    """Within the block, every attention module of ``model`` uses its mean gate from ``means``."""
    handles = []
    for name, module in attention_modules(model):
        if name not in means:
            raise KeyError(f"fixed_gates: no mean gate for {name!r}; compute it with mean_gates")
        gates = means[name]

        def hook(mod, args, output, gates=gates):
            return _apply_fixed(mod, gates, args[0])

        handles.append(module.register_forward_hook(hook))
    try:
        yield model
    finally:
        for h in handles:
            h.remove()
