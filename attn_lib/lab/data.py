"""Data for the book: a few real photographs and a procedural shapes dataset.

Photographs come from files that ship inside installed packages (matplotlib,
scikit-image), so nothing is ever downloaded at run time.

The shapes dataset is rendered from a seed with a private ``torch.Generator``:
the same seed always gives the same tensors and the global RNG is never touched.
Each image holds exactly one object whose class is its *shape*; colour, texture,
size, position and rotation are drawn independently of the class, and the
background carries clutter (blobs, lines, noise, non-class fragments) in the same
colours as the object, so a classifier has to find the object to name it.
"""
from __future__ import annotations

import importlib.resources
import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "SAMPLE_IMAGES", "load_sample_image",
    "CLASSES", "ShapesBatch", "make_shapes", "render_scale_sweep",
]

# name -> (importable package, path inside it, pip distribution name)
_PHOTOS = {
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "matplotlib"),
    "astronaut": ("skimage", "data/astronaut.png", "scikit-image"),
    "chelsea": ("skimage", "data/chelsea.png", "scikit-image"),
    "coffee": ("skimage", "data/coffee.png", "scikit-image"),
    "rocket": ("skimage", "data/rocket.jpg", "scikit-image"),
}
SAMPLE_IMAGES: tuple[str, ...] = tuple(_PHOTOS)

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross", "ring")

_MIN_IMAGE = 16      # pixels; smaller images leave no room for clutter around an object
_MIN_DIAMETER = 6.0  # pixels; smaller objects cannot be told apart by shape


def load_sample_image(name: str, size: int = 224) -> Tensor:
    """Load a public-domain / CC0 photograph bundled with an installed package.

    The photo is center-cropped to a square, then resized with antialiasing.

    Args:
        name: one of ``SAMPLE_IMAGES``.
        size: side of the output in pixels.

    Returns:
        float32 tensor of shape ``(3, size, size)`` with values in ``[0, 1]``.
    """
    if name not in _PHOTOS:
        raise ValueError(f"unknown sample image {name!r}; expected one of {', '.join(SAMPLE_IMAGES)}")
    _check_int("size", size, 1)
    package, relpath, dist = _PHOTOS[name]
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"sample image {name!r} ships with the {dist!r} package, which is not installed; "
            f"run `pip install {dist}`"
        ) from err
    path = root.joinpath(relpath)
    if not path.is_file():  # some distro builds strip package data
        raise FileNotFoundError(f"sample image {name!r} is missing from the installed {dist!r} package: {path}")
    from PIL import Image  # Pillow is a dependency of matplotlib, so always present here

    with path.open("rb") as fh:
        img = torch.from_numpy(np.array(Image.open(fh).convert("RGB"))).permute(2, 0, 1).float().div_(255)
    height, width = img.shape[1:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    img = img[:, top:top + side, left:left + side]
    img = F.interpolate(img[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return img[0].clamp_(0, 1)


@dataclass(frozen=True)
class ShapesBatch:
    """A batch of rendered scenes; field ``i`` of every tensor describes image ``i``.

    Attributes:
        images: ``(N, 3, H, W)`` float32 in ``[0, 1]``.
        labels: ``(N,)`` int64 index into ``CLASSES``.
        masks: ``(N, H, W)`` bool, True exactly on the object's pixels.
        sizes: ``(N,)`` float32, object diameter in pixels (the circle it is inscribed in).
        centers: ``(N, 2)`` float32 object center as (row, col) in pixels.
        cues: ``(N,)`` int64 index of the cue's colour on the cued task
            (:data:`attn_lib.lab.tasks.CUE_COLOURS`); None elsewhere.
    """

    images: Tensor
    labels: Tensor
    masks: Tensor
    sizes: Tensor
    centers: Tensor
    cues: Tensor | None = None

    def __len__(self) -> int:
        return self.labels.shape[0]


def make_shapes(
    n: int,
    image_size: int = 64,
    seed: int = 0,
    size_range: tuple[float, float] = (0.25, 0.6),
    clutter: float = 1.0,
    textures: bool = True,
) -> ShapesBatch:
    """Render ``n`` cluttered scenes, each with one object of a class in ``CLASSES``.

    Labels are exactly balanced (``n % len(CLASSES)`` extras aside) and shuffled.
    The objects are drawn before the background, so the same seed gives the same
    objects (class, size, position, rotation, colour) at every ``clutter`` and
    with ``textures`` on or off: only the surroundings or the fill change.

    Args:
        n: number of images.
        image_size: side ``S`` of the square images, in pixels (>= 16).
        seed: seed of the private generator; same seed, same batch.
        size_range: (min, max) object diameter as a fraction of ``image_size``,
            with ``0 < min <= max <= 1``.
        clutter: 0 gives a flat background; 1 the default clutter; larger is busier.
        textures: if False every object and fragment is a solid colour.

    Returns:
        ``ShapesBatch`` with ``images (n, 3, S, S)``, ``labels (n,)``,
        ``masks (n, S, S)``, ``sizes (n,)``, ``centers (n, 2)``.
    """
    _check_int("n", n, 1)
    _check_common(image_size, seed, size_range, clutter)
    gen = torch.Generator().manual_seed(seed)
    k = len(CLASSES)
    labels = (torch.arange(n) % k)[torch.randperm(n, generator=gen)]
    return _render(_sample(labels, image_size, gen, size_range, clutter, textures), image_size)


def render_scale_sweep(
    label: int | str,
    fractions: Sequence[float],
    seed: int = 0,
    image_size: int = 64,
    clutter: float = 1.0,
    textures: bool = True,
) -> ShapesBatch:
    """Render one scene several times, changing only the object's diameter.

    Class, center, rotation, colour, texture and background are fixed; the
    center is drawn so that the largest object still fits. Background pixels
    change only within 2 px of the object (where fragments are kept clear of it).

    Args:
        label: class index or name from ``CLASSES``.
        fractions: ``K`` object diameters as fractions of ``image_size``, each in ``(0, 1]``.
        seed, image_size, clutter, textures: as in ``make_shapes``.

    Returns:
        ``ShapesBatch`` of ``K`` images in the order of ``fractions``.
    """
    if isinstance(label, str):
        if label not in CLASSES:
            raise ValueError(f"unknown class {label!r}; expected one of {', '.join(CLASSES)}")
        label = CLASSES.index(label)
    _check_int("label", label, 0)
    if label >= len(CLASSES):
        raise ValueError(f"label must be in [0, {len(CLASSES) - 1}], got {label}")
    try:
        fr = [float(f) for f in fractions]
    except (TypeError, ValueError):
        raise ValueError(f"fractions must be a sequence of numbers, got {fractions!r}") from None
    if not fr:
        raise ValueError("fractions must hold at least one size, got an empty sequence")
    _check_common(image_size, seed, (min(fr), max(fr)), clutter, what="fractions")
    gen = torch.Generator().manual_seed(seed)
    p = _sample(torch.tensor([label]), image_size, gen, (max(fr), max(fr)), clutter, textures)
    p = {key: val.expand(len(fr), *val.shape[1:]) for key, val in p.items()}
    p["diam"] = torch.tensor(fr) * image_size
    return _render(p, image_size)


# ---------------------------------------------------------------- internals

def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_common(image_size, seed, size_range, clutter, what="size_range") -> None:
    _check_int("image_size", image_size, _MIN_IMAGE)
    _check_int("seed", seed, 0)
    try:
        lo, hi = (float(x) for x in size_range)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be two numbers (min, max), got {size_range!r}") from None
    if not (0 < lo <= hi <= 1):
        raise ValueError(f"{what} must satisfy 0 < min <= max <= 1 (fractions of image_size), got ({lo}, {hi})")
    if lo * image_size < _MIN_DIAMETER:
        raise ValueError(
            f"smallest object would be {lo * image_size:.1f} px ({what} min {lo} x image_size {image_size}); "
            f"shapes need a diameter of at least {_MIN_DIAMETER:.0f} px"
        )
    if isinstance(clutter, bool) or not isinstance(clutter, numbers.Real) or not (math.isfinite(clutter) and clutter >= 0):
        raise ValueError(f"clutter must be a finite number >= 0, got {clutter!r}")


def _u(gen: torch.Generator, *shape: int, lo: float = 0.0, hi: float = 1.0) -> Tensor:
    return lo + (hi - lo) * torch.rand(*shape, generator=gen)


def _colour(gen: torch.Generator, lum: Tensor) -> Tensor:
    """(N,) luminance -> (N, 3) colour of that mean with a random hue."""
    chroma = _u(gen, lum.shape[0], 3, lo=-0.25, hi=0.25)
    return (lum[:, None] + chroma - chroma.mean(1, keepdim=True)).clamp(0, 1)


def _sample(labels: Tensor, s: int, gen: torch.Generator, size_range, clutter: float, textures: bool) -> dict:
    """Draw every random parameter of ``len(labels)`` scenes, in a fixed order.

    All randomness lives here so that ``_render`` is a pure function and a scale
    sweep can reuse one draw with different diameters.
    """
    n = labels.shape[0]
    p: dict[str, Tensor] = {"label": labels}
    p["diam"] = _u(gen, n, lo=size_range[0] * s, hi=size_range[1] * s)
    r = p["diam"] / 2
    # Centers keep the whole circumscribed circle inside the image.
    p["center"] = r[:, None] + _u(gen, n, 2) * (s - 1 - 2 * r)[:, None]
    p["angle"] = _u(gen, n, hi=2 * math.pi)
    # Polarity decides dark-on-light or light-on-dark; the object and fragments share
    # it, so contrast alone cannot point at the object.
    dark = torch.rand(n, generator=gen) < 0.5
    sign = torch.where(dark, -1.0, 1.0)
    bg_lum = torch.where(dark, _u(gen, n, lo=0.55, hi=0.8), _u(gen, n, lo=0.2, hi=0.45))
    p["bg"] = _colour(gen, bg_lum)
    obj_lum = torch.where(dark, _u(gen, n, lo=0.2, hi=0.35), _u(gen, n, lo=0.65, hi=0.8))
    p["col1"], p["col2"] = _colour(gen, obj_lum), _colour(gen, obj_lum + 0.17 * sign)
    p["tex"] = _texture_params(gen, n, textures)

    c = float(clutter)
    # Low-frequency colour fields: upsampled coarse noise gives soft blobs and gradients.
    p["blobs"] = torch.randn(n, 3, 4, 4, generator=gen) * 0.05 * c
    p["blobs_fine"] = torch.randn(n, 1, 9, 9, generator=gen) * 0.05 * c
    k_lines, k_frags = round(3 * c), round(4 * c)
    # Lines: (angle, offset, width, luminance step, active) per slot.
    p["lines"] = torch.stack([
        _u(gen, n, k_lines, hi=math.pi), _u(gen, n, k_lines, lo=-0.5 * s, hi=0.5 * s),
        _u(gen, n, k_lines, lo=0.6, hi=1.4), _u(gen, n, k_lines, lo=-0.12, hi=0.12),
        (torch.rand(n, k_lines, generator=gen) < 0.8).float()], -1)
    # Fragments: (row, col, angle, length, thickness, arc half-angle, active) per slot.
    p["frags"] = torch.stack([
        _u(gen, n, k_frags, hi=s - 1), _u(gen, n, k_frags, hi=s - 1), _u(gen, n, k_frags, hi=2 * math.pi),
        _u(gen, n, k_frags, lo=0.15 * s, hi=0.4 * s), _u(gen, n, k_frags, lo=0.035 * s, hi=0.07 * s),
        _u(gen, n, k_frags, lo=0.5, hi=1.2),
        (torch.rand(n, k_frags, generator=gen) < 0.8).float()], -1)
    frag_lum = torch.where(dark[:, None], _u(gen, n, k_frags, lo=0.15, hi=0.35), _u(gen, n, k_frags, lo=0.65, hi=0.85))
    p["frag_col"] = _colour(gen, frag_lum.reshape(-1)).reshape(n, k_frags, 3)
    p["frag_col2"] = _colour(gen, (frag_lum + 0.17 * sign[:, None]).reshape(-1)).reshape(n, k_frags, 3)
    p["frag_tex"] = _texture_params(gen, n * k_frags, textures).reshape(n, k_frags, 4)
    p["noise"] = torch.randn(n, 3, s, s, generator=gen) * 0.03 * c
    return p


def _texture_params(gen: torch.Generator, n: int, textures: bool) -> Tensor:
    """(n, 4): kind (0 solid, 1 stripes, 2 checker), stripes per unit, two phases."""
    kind = torch.randint(0, 3, (n,), generator=gen).float() * float(textures)
    return torch.stack([kind, _u(gen, n, lo=1.5, hi=3.0), _u(gen, n), _u(gen, n)], -1)


def _texture(u: Tensor, v: Tensor, tp: Tensor) -> Tensor:
    """(N, S, S) local coords and (N, 4) texture params -> (N, S, S) bool, True on the second colour."""
    kind, freq, ph_u, ph_v = (t.view(-1, 1, 1) for t in tp.unbind(-1))
    # Integer parity: float remainder is several times slower.
    a, b = (u * freq + ph_u).floor_().int(), (v * freq + ph_v).floor_().int()
    return ((kind == 1) & (a & 1).bool()) | ((kind == 2) & ((a + b) & 1).bool())


def _local(yy: Tensor, xx: Tensor, cy: Tensor, cx: Tensor, angle: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
    """Pixel grid -> rotated coordinates around (cy, cx), divided by ``scale``; all (N,) -> (N, S, S)."""
    v3 = lambda t: t.view(-1, 1, 1)  # noqa: E731
    dy, dx = (yy - v3(cy)) / v3(scale), (xx - v3(cx)) / v3(scale)
    cos, sin = v3(torch.cos(angle)), v3(torch.sin(angle))
    return dx * cos + dy * sin, dy * cos - dx * sin


def _shape_masks(u: Tensor, v: Tensor) -> Tensor:
    """Unit-circumradius shapes in local coords: (N, S, S) -> (len(CLASSES), N, S, S) bool."""
    rho2 = u * u + v * v
    au, av = u.abs(), v.abs()
    # Equilateral triangle inscribed in the unit circle: inradius 1/2 from each edge.
    tri = torch.stack([v * math.sin(a) + u * math.cos(a) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]).amax(0) <= 0.5
    arm, half_w = 0.95, 0.28
    cross = ((au <= arm) & (av <= half_w)) | ((au <= half_w) & (av <= arm))
    return torch.stack([rho2 <= 1, torch.maximum(au, av) <= 1 / math.sqrt(2), tri, cross, (rho2 <= 1) & (rho2 >= 0.55**2)])


def _render(p: dict, s: int) -> ShapesBatch:
    """Pure function of the sampled parameters -> ``ShapesBatch`` of ``len(p['label'])`` images."""
    # Chunks of ~128k pixels keep the many full-grid temporaries in L2 cache (3x faster
    # than one big batch). Such small ops gain nothing from intra-op threads, and on a
    # busy machine (pytest-xdist, a notebook kernel next to a build) every parallel
    # region waits for a descheduled thread: 2 threads measured 3-10x slower than 1.
    chunk = max(1, 2**17 // (s * s))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        parts = [_render_chunk({k: v[i:i + chunk] for k, v in p.items()}, s) for i in range(0, len(p["label"]), chunk)]
    finally:
        torch.set_num_threads(threads)
    return ShapesBatch(*(torch.cat(t) for t in zip(*parts, strict=True)))


def _render_chunk(p: dict, s: int) -> tuple[Tensor, ...]:
    """Parameters of N scenes -> (images, labels, masks, sizes, centers) as in ``ShapesBatch``."""
    n = p["label"].shape[0]
    yy, xx = (g[None].float() for g in torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij"))
    up = lambda t: F.interpolate(t, size=(s, s), mode="bilinear", align_corners=False)  # noqa: E731
    img = p["bg"][:, :, None, None] + up(p["blobs"]) + up(p["blobs_fine"])

    # The scale task keeps clutter out of a disk around the centre ("clear", a radius in px),
    # so that an object growing inside it hides none of the clutter.
    clear = None
    if "clear" in p:
        cy0, cx0 = p["center"][:, 0].view(-1, 1, 1), p["center"][:, 1].view(-1, 1, 1)
        clear = (yy - cy0) ** 2 + (xx - cx0) ** 2 <= p["clear"].view(-1, 1, 1) ** 2
    for j in range(p["lines"].shape[1]):
        ang, off, width, step, on = p["lines"][:, j].unbind(-1)
        dist = (xx - s / 2) * torch.cos(ang).view(-1, 1, 1) + (yy - s / 2) * torch.sin(ang).view(-1, 1, 1) - off.view(-1, 1, 1)
        hit = (dist.abs() <= width.view(-1, 1, 1) / 2) & (on.view(-1, 1, 1) > 0)
        if clear is not None:
            hit &= ~clear
        img = img + hit[:, None] * step.view(-1, 1, 1, 1)

    r = p["diam"] / 2
    u, v = _local(yy, xx, p["center"][:, 0], p["center"][:, 1], p["angle"], r)
    shapes = _shape_masks(u, v)
    mask = shapes.gather(0, p["label"].view(1, -1, 1, 1).expand(1, n, s, s))[0]
    # A 2 px moat keeps fragments from touching the object and changing its outline;
    # a ring's hole is part of the moat so nothing appears inside it.
    filled = torch.where((p["label"] == CLASSES.index("ring")).view(-1, 1, 1), shapes[0], mask)
    moat = filled[:, None].float()
    moat = F.max_pool2d(F.max_pool2d(moat, (1, 5), 1, (0, 2)), (5, 1), 1, (2, 0))[:, 0] > 0
    if clear is not None:
        moat |= clear

    for j in range(p["frags"].shape[1]):
        cy, cx, ang, length, thick, half_arc, on = p["frags"][:, j].unbind(-1)
        fu, fv = _local(yy, xx, cy, cx, ang, torch.ones_like(cy))
        L, t = length.view(-1, 1, 1), thick.view(-1, 1, 1) / 2
        # The kind is fixed per slot (computing all kinds for every slot costs 3x); which
        # slots are active is random, so images still mix kinds.
        if j % 3 == 0:
            frag = (fu.abs() <= L / 2) & (fv.abs() <= t)
        elif j % 3 == 1:
            frag = ((fu >= -t) & (fu <= 0.6 * L) & (fv.abs() <= t)) | ((fv >= -t) & (fv <= 0.6 * L) & (fu.abs() <= t))
        else:  # open arcs (< 140 degrees) never close into a ring
            rho = torch.sqrt(fu * fu + fv * fv)
            frag = ((rho - L / 2).abs() <= t) & (torch.atan2(fv, fu).abs() <= half_arc.view(-1, 1, 1))
        frag &= (on.view(-1, 1, 1) > 0) & ~moat
        second = _texture(fu / L, fv / L, p["frag_tex"][:, j])
        col = torch.where(second[:, None], p["frag_col2"][:, j, :, None, None], p["frag_col"][:, j, :, None, None])
        img = torch.where(frag[:, None], col, img)

    second = _texture(u, v, p["tex"])
    col = torch.where(second[:, None], p["col2"][:, :, None, None], p["col1"][:, :, None, None])
    img = torch.where(mask[:, None], col, img) + p["noise"]
    return img.clamp_(0, 1), p["label"].long(), mask, p["diam"].float(), p["center"].float()
