"""The lab's tasks: one per kind of attention, each generated from a seed, offline, on the CPU.

Every task returns a :class:`~attn_lib.lab.data.ShapesBatch`: images, the label, the mask of the
object the label names, its size and centre (and, on the cued task, the cue).

- ``"shapes"`` (general): one textured shape in clutter; name its shape. A plain ResNet solves
  it, so attention has little to do here; it is the baseline task the first chapters used.
- ``"cued"`` (channel attention): three shapes of three colour families — red, green, blue —
  and a frame around the image in one of those colours. Name the shape whose colour the frame
  gives. Without the cue the best guess is right one time in three. The frame sits at the
  border, the objects inside: a plain CNN must carry the cue's colour to every object's
  position through its layers, while a gate computed from the whole image (SE's squeeze sees
  the frame) can switch the colour channels on or off per image.
- ``"spotlight"`` (spatial attention): one small shape (25-35 % of the image side) in heavy
  clutter; name its shape, or segment it. The object's pixels are a few percent of the image,
  so global average pooling drowns them in clutter unless something weights *where* to pool.
  The mask is known, so a spatial gate's inside/outside contrast can be measured.
- ``"scale"`` (selective kernels): one shape whose size spans 10-74 % of the side (a factor
  of 7), centred, under pixel noise, with the clutter kept outside a fixed disk. Which kernel
  serves best depends on the size: a small object needs fine detail that a wide kernel blurs,
  a large one gains from averaging the noise over a wide kernel. The clutter does not change
  with the object's size, so a sweep over sizes (:func:`scale_sweep`) changes the size alone
  and stays inside the training distribution.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .data import (
    CLASSES, ShapesBatch, _check_int, _local, _render, _sample, _shape_masks, make_shapes,
)

__all__ = ["TASKS", "TASK_PURPOSE", "TASK_MECHANISMS", "CUE_COLOURS", "MIN_IMAGE_SIZE", "make_task", "scale_sweep"]

TASKS = ("shapes", "cued", "spotlight", "scale")
TASK_PURPOSE = {
    "shapes": "general: one shape in clutter",
    "cued": "channel attention: a frame's colour says which of three shapes to name",
    "spotlight": "spatial attention: a small shape in heavy clutter",
    "scale": "selective kernels: object sizes from 10 % to 74 % of the image under noise, clutter fixed",
}
# The mechanisms each task is designed for (with no attention and the controls): the sweep
# trains these first, over every seed, then every other mechanism on every task.
TASK_MECHANISMS = {
    "shapes": (),
    "cued": ("se", "eca", "cbam", "ge", "srm", "fca"),
    "spotlight": ("sse", "scse", "cbam", "bam", "coord"),
    "scale": ("sk",),
}
# Smallest side each task can be drawn at: its smallest object must keep 6 px, and the cued
# task's three objects must fit in their cells inside the frame.
MIN_IMAGE_SIZE = {"shapes": 24, "cued": 32, "spotlight": 24, "scale": 60}
CUE_COLOURS = ("red", "green", "blue")
SPOTLIGHT_SIZES = (0.25, 0.35)
SPOTLIGHT_CLUTTER = 1.5
SCALE_SIZES = (0.1, 0.74)
SCALE_CLEAR = 0.38  # radius of the clutter-free disk around the centre, fraction of the side
SCALE_NOISE = 0.08  # standard deviation of the pixel noise (the other tasks: 0.03)
_FRAME = 3 / 48  # frame width as a fraction of the side: 3 px at 48 px


def _check_task(task: str, n: int, image_size: int, seed: int) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of: {', '.join(TASKS)}")
    _check_int("n", n, 1)
    _check_int("seed", seed, 0)
    if isinstance(image_size, bool) or not isinstance(image_size, int):
        raise ValueError(f"image_size must be an int, got {type(image_size).__name__} {image_size!r}")
    if image_size < MIN_IMAGE_SIZE[task]:
        raise ValueError(
            f"task {task!r} needs image_size >= {MIN_IMAGE_SIZE[task]} px, got {image_size}"
        )


def make_task(task: str, n: int, image_size: int = 48, seed: int = 0) -> ShapesBatch:
    """``n`` images of ``task`` (one of :data:`TASKS`), deterministic from ``seed``.

    Returns a ShapesBatch: images (n, 3, S, S) in [0, 1], labels (n,) indexing ``CLASSES``,
    masks (n, S, S) of the object the label names, sizes (n,), centers (n, 2), and on the
    cued task cues (n,) indexing :data:`CUE_COLOURS`.
    """
    _check_task(task, n, image_size, seed)
    if task == "shapes":
        return make_shapes(n, image_size, seed)
    if task == "spotlight":
        return make_shapes(n, image_size, seed, size_range=SPOTLIGHT_SIZES, clutter=SPOTLIGHT_CLUTTER)
    if task == "scale":
        return _scale(n, image_size, seed)
    return _cued(n, image_size, seed)


def scale_sweep(label: int | str, fractions, seed: int = 0, image_size: int = 64) -> ShapesBatch:
    """One scene of the scale task redrawn at each object diameter in ``fractions``.

    Class, colour, texture, rotation and every pixel of clutter stay the same: the clutter
    lies outside the disk of radius ``SCALE_CLEAR`` that no object of the task exceeds. Each
    fraction must lie in the task's training range ``SCALE_SIZES``.
    """
    _check_task("scale", 1, image_size, seed)
    if isinstance(label, str):
        if label not in CLASSES:
            raise ValueError(f"unknown class {label!r}; expected one of {', '.join(CLASSES)}")
        label = CLASSES.index(label)
    fr = [float(f) for f in fractions]
    lo, hi = SCALE_SIZES[0] - 1e-6, SCALE_SIZES[1] + 1e-6  # float32 endpoints round
    if not fr or not all(lo <= f <= hi for f in fr):
        raise ValueError(
            f"fractions must be non-empty and within the scale task's training range "
            f"{SCALE_SIZES}, got {fr}"
        )
    gen = torch.Generator().manual_seed(seed)
    p = _scale_params(torch.tensor([label]), image_size, gen)
    p = {key: val.expand(len(fr), *val.shape[1:]) for key, val in p.items()}
    p["diam"] = torch.tensor(fr) * image_size
    return _render(p, image_size)


# ---------------------------------------------------------------- scale

def _scale_params(labels: Tensor, s: int, gen: torch.Generator) -> dict:
    p = _sample(labels, s, gen, SCALE_SIZES, 1.0, True)
    p["noise"] = p["noise"] * (SCALE_NOISE / 0.03)  # _sample draws it at 0.03
    n = labels.shape[0]
    # Centred, with a small jitter that keeps the largest object inside the clear disk.
    jitter = (torch.rand(n, 2, generator=gen) - 0.5) * 0.04 * s
    p["center"] = (s - 1) / 2 + jitter
    p["clear"] = torch.full((n,), SCALE_CLEAR * s)
    return p


def _scale(n: int, s: int, seed: int) -> ShapesBatch:
    gen = torch.Generator().manual_seed(seed)
    labels = (torch.arange(n) % len(CLASSES))[torch.randperm(n, generator=gen)]
    return _render(_scale_params(labels, s, gen), s)


# ---------------------------------------------------------------- cued selection

# Hue families: each object's colour is its family's primary, jittered, never another's.
_FAMILY_RGB = torch.tensor([[0.85, 0.15, 0.15], [0.15, 0.75, 0.2], [0.2, 0.3, 0.9]])


def _cued(n: int, s: int, seed: int) -> ShapesBatch:
    gen = torch.Generator().manual_seed(seed)
    k = len(CLASSES)
    # Three distinct shapes per image, one per colour family; the cue picks one family.
    shapes = torch.stack([torch.randperm(k, generator=gen)[:3] for _ in range(n)])  # (n, 3)
    cue = torch.randint(0, 3, (n,), generator=gen)
    labels = shapes.gather(1, cue[:, None])[:, 0]
    # Three of the four quadrants inside the frame, one object each, in random order.
    cells = torch.stack([torch.randperm(4, generator=gen)[:3] for _ in range(n)])  # (n, 3)
    frame = max(2, round(_FRAME * s))
    inner = s - 2 * frame
    cell = inner / 2
    diam = (0.55 + 0.3 * torch.rand(n, 3, generator=gen)) * cell  # 55-85 % of a cell
    slack = (cell - diam) / 2
    offset = (torch.rand(n, 3, 2, generator=gen) - 0.5) * 2 * slack[..., None] * 0.8
    row, col = (cells // 2).float(), (cells % 2).float()
    centers = frame + torch.stack([row, col], -1) * cell + cell / 2 + offset - 0.5
    angle = torch.rand(n, 3, generator=gen) * 2 * math.pi
    jitter = (torch.rand(n, 3, 3, generator=gen) - 0.5) * 0.2
    colours = (_FAMILY_RGB[None] + jitter).clamp(0, 1)  # (n, 3 families, RGB)
    cue_jitter = (torch.rand(n, 3, generator=gen) - 0.5) * 0.2
    frame_colour = (_FAMILY_RGB[cue] + cue_jitter).clamp(0, 1)
    # Achromatic background and clutter: colour belongs to the objects and the frame.
    bg = 0.35 + 0.3 * torch.rand(n, generator=gen)
    blobs = torch.randn(n, 1, 4, 4, generator=gen) * 0.06
    noise = torch.randn(n, 1, s, s, generator=gen) * 0.03
    k_frags = 6
    frags = torch.stack([
        torch.rand(n, k_frags, generator=gen) * (s - 1),
        torch.rand(n, k_frags, generator=gen) * (s - 1),
        torch.rand(n, k_frags, generator=gen) * 2 * math.pi,
        (0.1 + 0.15 * torch.rand(n, k_frags, generator=gen)) * s,
        (0.03 + 0.03 * torch.rand(n, k_frags, generator=gen)) * s,
        torch.rand(n, k_frags, generator=gen) * 0.5 - 0.25,
    ], -1)

    yy, xx = (g[None].float() for g in torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij"))
    img = bg.view(n, 1, 1, 1) + torch.nn.functional.interpolate(
        blobs, size=(s, s), mode="bilinear", align_corners=False) + noise
    for j in range(k_frags):
        cy, cx, ang, length, thick, step = frags[:, j].unbind(-1)
        fu, fv = _local(yy, xx, cy, cx, ang, torch.ones_like(cy))
        bar = (fu.abs() <= length.view(-1, 1, 1) / 2) & (fv.abs() <= thick.view(-1, 1, 1) / 2)
        img = img + bar[:, None] * step.view(-1, 1, 1, 1)
    img = img.expand(n, 3, s, s).clone()
    target_mask = torch.zeros(n, s, s, dtype=torch.bool)
    for i in range(3):
        u, v = _local(yy, xx, centers[:, i, 0], centers[:, i, 1], angle[:, i], diam[:, i] / 2)
        masks = _shape_masks(u, v)  # (k, n, S, S)
        mask = masks.gather(0, shapes[:, i].view(1, -1, 1, 1).expand(1, n, s, s))[0]
        img = torch.where(mask[:, None], colours[:, i, :, None, None], img)
        target_mask |= mask & (cue == i).view(-1, 1, 1)
    border = (yy < frame) | (yy >= s - frame) | (xx < frame) | (xx >= s - frame)
    img = torch.where(border[:, None], frame_colour[:, :, None, None], img)
    target = cue
    idx = torch.arange(n)
    return ShapesBatch(
        images=img.clamp_(0, 1), labels=labels.long(), masks=target_mask,
        sizes=diam[idx, target].float(), centers=centers[idx, target].float(), cues=cue.long(),
    )
