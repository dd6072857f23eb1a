"""Does a trained spatial gate mark the object? Its mean inside the object against outside it.

A spatial map drawn over an image invites a story ("the network looks at the object"); this
module turns the story into two numbers per layer that a chapter can print and a test can check:

    model = attn_lib.lab.pretrained.load("unet-scse")
    batch = attn_lib.lab.data.make_shapes(200, 48, seed=30_000)    # a seed training never used
    mask_contrast(model, batch)
    # {"encoder_attention.0": Contrast(inside=0.423, outside=0.456, size=(48, 48)), ...}

The object mask is brought to each map's own resolution (the map is never interpolated):
``F.interpolate(mask, size, mode="area")`` gives, per cell of the map, the fraction of its
pixels that belong to the object. A cell with at least ``inside`` of its pixels on the object
counts as inside; a cell with no object pixel at all counts as outside; the cells in between
straddle the boundary and count as neither.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .data import ShapesBatch
# The map measured is the one viz's figures draw (for BAM, the channel mean of its 3-D gate).
from ..viz.gates import collect_attention, spatial_map

__all__ = ["Contrast", "mask_contrast", "object_coverage", "contrast_table", "gate_spread"]


class Contrast(NamedTuple):
    """Mean spatial gate over the object's cells and over the background's cells of one layer.

    Attributes:
        inside: mean gate over every cell (of every image) that lies on the object.
        outside: mean gate over every cell that touches no object pixel.
        size: (H', W'), the resolution the layer's map was computed at.
    """

    inside: float
    outside: float
    size: tuple[int, int]

    @property
    def difference(self) -> float:
        """inside − outside: positive when the gate is higher on the object."""
        return self.inside - self.outside


def object_coverage(masks: Tensor, size: tuple[int, int]) -> Tensor:
    """Fraction of each cell of an (H', W') grid covered by the object.

    Args:
        masks: (N, H, W) bool, True on the object's pixels (``ShapesBatch.masks``).
        size: (H', W') of the grid, e.g. a spatial map's last two dimensions.

    Returns:
        (N, 1, H', W') float in [0, 1], by area interpolation (the mean of the mask over the
        pixels each cell covers).
    """
    if masks.dim() != 3:
        raise ValueError(f"object_coverage: expected masks of shape (N, H, W), got {tuple(masks.shape)}")
    return F.interpolate(masks[:, None].float(), size=size, mode="area")


def mask_contrast(model: nn.Module, batch: ShapesBatch, inside: float = 0.5) -> dict[str, Contrast]:
    """Mean spatial gate on the object against off it, for every layer with a spatial gate.

    Args:
        model: a network with attention modules that compute a spatial map: sse, scse, cbam
            (the gate q or M_s in (0, 1)) or bam (the mean over channels of σ(M_c + M_s), the
            same map :func:`attn_lib.viz.spatial_maps_figure` draws). It runs in eval mode.
        batch: images with object masks, e.g. ``make_shapes(200, 48, seed=30_000)``.
        inside: a cell counts as inside when at least this fraction of it is object; cells with
            no object pixel count as outside; the others are left out. Default 0.5.

    Returns:
        ``{layer name: Contrast(inside, outside, size)}`` in forward order; means are over all
        cells of all images pooled together.
    """
    if not 0 < inside <= 1:
        raise ValueError(f"mask_contrast: inside must be in (0, 1], got {inside!r}")
    gates = collect_attention(model, batch.images)
    result = {}
    for layer, layer_gates in gates.items():
        spatial = spatial_map(layer_gates)
        if spatial is None:
            continue
        maps = spatial[0]  # (N, 1, H', W')
        size = tuple(maps.shape[-2:])
        coverage = object_coverage(batch.masks, size)
        on, off = coverage >= inside, coverage == 0
        if not on.any() or not off.any():
            raise ValueError(f"mask_contrast: at {size} no cell of layer {layer!r} is "
                             f"{'inside' if not on.any() else 'outside'} the objects")
        result[layer] = Contrast(maps[on].mean().item(), maps[off].mean().item(), size)
    if not result:
        raise ValueError(f"{type(model).__name__} has no attention module with a spatial gate")
    return result


def contrast_table(contrasts: dict[str, Contrast]) -> str:
    """Plain-text table of :func:`mask_contrast`'s result, one row per layer.

    Columns: layer, map size, inside, outside, inside − outside and inside / outside.
    """
    width = max(len("layer"), *map(len, contrasts))
    lines = [f"{'layer':<{width}}  {'map':>7}  {'inside':>6}  {'outside':>7}  {'in − out':>8}  {'in / out':>8}"]
    for layer, c in contrasts.items():
        size = f"{c.size[0]}×{c.size[1]}"
        lines.append(f"{layer:<{width}}  {size:>7}  {c.inside:6.3f}  {c.outside:7.3f}  "
                     f"{c.difference:+8.3f}  {c.inside / c.outside:8.2f}")
    return "\n".join(lines)


def gate_spread(values: Tensor, groups: Tensor) -> float:
    """How much a channel gate tells groups of images apart: across-group over within-group spread.

    ``values``: (N, C) gates of N images; ``groups``: (N,) the group of each (class, or cue).
    For each channel, the standard deviation of the G group means (across) and the pooled
    standard deviation within the groups (within); the ratio of their means over channels.
    Near 0: every group gets the same gate. Above 1: the groups differ more than their
    members do. Groups with fewer than two images are ignored.
    """
    keep = [g for g in groups.unique() if (groups == g).sum() >= 2]
    if len(keep) < 2:
        raise ValueError("gate_spread needs at least two groups of two or more images")
    means = torch.stack([values[groups == g].mean(0) for g in keep])  # (G, C)
    within = torch.stack([values[groups == g].var(0) for g in keep]).mean(0).sqrt()  # (C,)
    across = means.std(0)
    return (across.mean() / within.mean().clamp_min(1e-12)).item()
