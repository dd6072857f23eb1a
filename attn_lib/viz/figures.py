"""The book's figures: each a still (``*_figure``) and, where it has a state to vary, a
kernel-free widget (``*_widget``) drawn by the same code; see :mod:`attn_lib.viz`."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.nn import functional as F

from ..bench.cost import multiply_adds, parameters
from ..eca import eca_kernel_size
from ..lab.data import CLASSES, render_scale_sweep
from ..registry import create
from .frames import HEATMAP, _Figure, figure, frame_slider, render_frames
from .gates import as_batch, channel_values, collect_attention, rgb, select_layers, spatial_map

__all__ = [
    "channel_weights_figure", "channel_weights_widget",
    "spatial_maps_figure", "spatial_maps_widget",
    "SKScaleResponse", "sk_scale_response", "sk_scale_figure", "sk_scale_widget",
    "eca_kernel_figure", "reduction_cost", "reduction_cost_figure",
    "channel_heatmap_figure", "gate_and_gradcam_figure", "learning_curves_figure",
    "fast_and_far_figure",
]

OPACITIES = (0.0, 0.25, 0.5, 0.75, 1.0)
CONTOUR = "#00e5ff"  # the object's outline: cyan stands out on the grey image and the heatmap
ORDERS = ("by index", "sorted")


# ---------------------------------------------------------------- 1. channel weights

@dataclass(frozen=True)
class _ChannelData:
    names: list[str]  # one per series
    thumbnails: Tensor  # (K, 3, H, W): the first image of each series
    values: dict[str, Tensor]  # layer -> (K, C)
    ylabel: str


def _channel_data(model: nn.Module, inputs, names: Sequence[str] | None, layers) -> _ChannelData:
    # A 4-D tensor is K images, one series each; a sequence is K batches, each averaged.
    groups = list(as_batch(inputs)[:, None]) if isinstance(inputs, Tensor) else [as_batch(g) for g in inputs]
    names = list(names) if names is not None else [f"image {k + 1}" for k in range(len(groups))]
    if len(names) != len(groups):
        raise ValueError(f"got {len(groups)} inputs but {len(names)} names")
    gates = collect_attention(model, torch.cat(groups))
    available = {layer: v for layer, g in gates.items() if (v := channel_values(g)) is not None}
    chosen = select_layers(list(available), layers, "a channel gate")
    bounds = np.cumsum([0] + [len(g) for g in groups])
    values = {
        layer: torch.stack([available[layer][0][a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])
        for layer in chosen
    }
    ylabel = available[chosen[0]][1]
    return _ChannelData(names, torch.stack([g[0] for g in groups]), values, ylabel)


# A series named for a colour ("red frame") is drawn in that colour; the others take the cycle.
_NAMED_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4"}


def _series_colours(names: Sequence[str]) -> list[str]:
    colours = []
    for k, name in enumerate(names):
        words = name.lower().split()
        named = [c for word, c in _NAMED_COLOURS.items() if word in words]
        colours.append(named[0] if len(named) == 1 else f"C{k}")
    # Fall back to the cycle where names would give two series one colour.
    return colours if len(set(colours)) == len(colours) else [f"C{k}" for k in range(len(names))]


def _draw_channels(data: _ChannelData, layers: Sequence[str], order: str) -> _Figure:
    """Thumbnails of the inputs (left, top-aligned) and, per layer, each input's values."""
    colours = _series_colours(data.names)
    rows = max(len(layers), len(data.names))
    fig = figure(7.0, 0.5 + max(1.75 * len(layers), 1.1 * len(data.names)))
    left, right = fig.subfigures(1, 2, width_ratios=[1, 6])
    for k, ax in enumerate(left.subplots(rows, 1, squeeze=False)[:, 0]):
        ax.set_axis_off()
        if k < len(data.names):
            ax.imshow(rgb(data.thumbnails[k]))
            # The column is narrow: long names ("circle (mean of 40)") wrap rather than clip.
            ax.set_title(textwrap.fill(data.names[k], 14), color=colours[k], fontsize=8, fontweight="bold")
    sorted_ = order == "sorted"
    for ax, layer in zip(right.subplots(len(layers), 1, squeeze=False)[:, 0], layers):
        values = data.values[layer]
        channels = values.shape[1]
        for k, series in enumerate(values):
            y = series.sort(descending=True).values if sorted_ else series
            ax.plot(np.arange(channels), y.numpy(), "o-", color=colours[k], lw=0.9, ms=2.5, alpha=0.85,
                    label=data.names[k])
        if "logit" in data.ylabel:
            ax.axhline(0, color="0.5", lw=0.8, ls="--")
        else:
            ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(-0.5, channels - 0.5)
        ax.set_title(f"{layer}  ({channels} channels, {order})", fontsize=10, loc="left")
        ax.set_ylabel(data.ylabel, fontsize=9)
        ax.grid(alpha=0.3)
    ax.set_xlabel("rank (each input sorted, largest first)" if sorted_ else "channel index c")
    return fig


def channel_weights_figure(
    model: nn.Module, inputs, names: Sequence[str] | None = None,
    layers: Sequence[str] | None = None, order: str = "by index",
) -> Figure:
    """Per-channel weights of each layer for two (or a few) inputs, side by side.

    Works for models with channel gates: se, scse, cbam, eca (the gate s in (0, 1)) and bam
    (the channel logit M_c, before the sigmoid; dashed line at 0).

    Args:
        model: a network with attention modules (e.g. ``pretrained.load("classifier-se")``).
        inputs: images (K, 3, H, W), one series each; or a sequence of K batches
            (N_k, 3, H, W) whose values are averaged per batch (e.g. one batch per class).
        names: K legend names. Default "image 1", ...
        layers: layer names to show (default: every layer with a channel gate).
        order: "by index" (channel c on the x axis: compare inputs channel by channel) or
            "sorted" (each input's values sorted: compare how selective the gate is).
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    data = _channel_data(model, inputs, names, layers)
    return _draw_channels(data, list(data.values), order)


def channel_weights_widget(
    model: nn.Module, inputs, names: Sequence[str] | None = None, layers: Sequence[str] | None = None,
) -> widgets.VBox:
    """:func:`channel_weights_figure` one layer at a time: sliders layer × order (by index, sorted)."""
    data = _channel_data(model, inputs, names, layers)
    frames = [render_frames(lambda order: _draw_channels(data, [layer], order), ORDERS) for layer in data.values]
    return frame_slider(frames, ("layer", list(data.values)), ("order", ORDERS))


# ---------------------------------------------------------------- 2. spatial maps

@dataclass(frozen=True)
class _SpatialData:
    images: Tensor  # (K, 3, H, W)
    maps: dict[str, Tensor]  # layer -> (K, H, W), upsampled to the image
    native: dict[str, tuple[int, int]]  # layer -> (H', W') the module computed
    what: str
    value_range: tuple[float, float]  # of the colour scale
    masks: Tensor | None = None  # (K, H, W) bool: the object, drawn as a contour


def _spatial_data(model: nn.Module, images: Tensor, layers, value_range: tuple[float, float],
                  masks: Tensor | None = None) -> _SpatialData:
    images = as_batch(images)
    gates = collect_attention(model, images)
    available = {layer: v for layer, g in gates.items() if (v := spatial_map(g)) is not None}
    chosen = select_layers(list(available), layers, "a spatial gate")
    size = images.shape[-2:]
    # Bilinear, so that a 6×6 map reads as the smooth field it stands for, not as blocks.
    maps = {layer: F.interpolate(available[layer][0], size=size, mode="bilinear", align_corners=False)[:, 0]
            for layer in chosen}
    native = {layer: tuple(available[layer][0].shape[-2:]) for layer in chosen}
    if masks is not None and tuple(masks.shape) != (len(images), *size):
        raise ValueError(f"masks must be (K, H, W) = {(len(images), *size)}, got {tuple(masks.shape)}")
    return _SpatialData(images, maps, native, available[chosen[0]][1], tuple(value_range), masks)


def _draw_spatial(data: _SpatialData, layers: Sequence[str], opacity: float, with_input: bool = True) -> _Figure:
    """Rows: inputs; columns: the input (if ``with_input``), then each layer's map over it.

    Under the map the image is drawn in grey, so that its colours cannot be read as gate
    values; the input column keeps its colours.
    """
    rows, cols = len(data.images), int(with_input) + len(layers)
    norm = matplotlib.colors.Normalize(*data.value_range, clip=True)
    fig = figure(0.9 + 1.55 * cols, 0.55 + 1.5 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for r, image in enumerate(data.images):
        grey = (image * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0).numpy()
        if with_input:
            axes[r, 0].imshow(rgb(image))
        for ax, layer in zip(axes[r, int(with_input):], layers):
            ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
            ax.imshow(data.maps[layer][r].numpy(), cmap=HEATMAP, norm=norm, alpha=opacity)
        if data.masks is not None:
            for ax in axes[r]:
                ax.contour(data.masks[r].float().numpy(), levels=[0.5], colors=CONTOUR, linewidths=1)
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    if with_input:
        axes[0, 0].set_title("input", fontsize=9)
    for ax, layer in zip(axes[0, int(with_input):], layers):
        h, w = data.native[layer]
        ax.set_title(f"{layer}\n{h}×{w} map, opacity {opacity:g}", fontsize=8)
    # A fully opaque colorbar whatever the opacity, so colours can always be read off.
    mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=HEATMAP)
    fig.colorbar(mappable, ax=axes, shrink=min(1.0, 0.45 + 0.25 * rows), label=data.what, aspect=20)
    return fig


def spatial_maps_figure(
    model: nn.Module, images: Tensor, layers: Sequence[str] | None = None, opacity: float = 0.6,
    value_range: tuple[float, float] = (0.0, 1.0), masks: Tensor | None = None,
) -> Figure:
    """Each layer's spatial gate over each image: rows images, columns layers.

    Works for sse, scse, cbam (the gate q or M_s in (0, 1)) and bam (the mean over channels
    of the gate it applies, σ(M_c + M_s)). Each (H', W') map is upsampled bilinearly to the
    image size; one colour scale serves every layer, so layers compare.

    Args:
        model: a network with attention modules.
        images: (K, 3, H, W) or (3, H, W).
        layers: layer names to show (default: every layer with a spatial gate).
        opacity: of the map over the image, 0 (image only) to 1 (map only).
        value_range: gate values at the two ends of the colour scale. Default (0, 1), the
            whole range of a gate; narrow it (e.g. (0.9, 1)) to see structure in a gate that
            stays near one value (values outside are drawn in the end colours).
        masks: (K, H, W) bool, the object of each image, drawn as a contour.
    """
    data = _spatial_data(model, images, layers, value_range, masks)
    return _draw_spatial(data, list(data.maps), opacity)


def spatial_maps_widget(
    model: nn.Module, images: Tensor, layers: Sequence[str] | None = None,
    opacities: Sequence[float] = OPACITIES, value_range: tuple[float, float] = (0.0, 1.0),
    masks: Tensor | None = None,
) -> widgets.VBox:
    """:func:`spatial_maps_figure` one layer at a time: sliders layer × opacity.

    A frame shows each image's map over the grey image (opacity 0: the image alone), without
    the colour input column of the still, which would double the bytes of every frame. The
    widget opens at the opacity nearest 0.5, so the first view already shows the gate.
    """
    data = _spatial_data(model, images, layers, value_range, masks)
    frames = [render_frames(lambda a: _draw_spatial(data, [layer], a, with_input=False), opacities)
              for layer in data.maps]
    # Open on a map that shows the gate and still the image under it: the opacity nearest 0.5.
    shown = min(range(len(opacities)), key=lambda i: abs(opacities[i] - 0.5))
    return frame_slider(frames, ("layer", list(data.maps)), ("opacity", [f"{a:g}" for a in opacities]),
                        start=(0, shown))


# ---------------------------------------------------------------- 3. selective kernels and object size

@dataclass(frozen=True)
class SKScaleResponse:
    """How an SK network's branch weights move as one object grows (see :func:`sk_scale_response`).

    Attributes:
        fractions: (K,) object diameters as fractions of the image side.
        diameters: (K,) the same in pixels.
        layers: the L SK layers' names, in forward order.
        dilated_weight: (S, L, K): for scene s, layer l and size k, the weight a of the most
            dilated branch (the largest receptive field) averaged over channels.
        images: (S, K, 3, H, W) the scenes.
        scenes: S (class name, seed) pairs.
        num_branches: M, the branches of each SK layer (the weights of a channel sum to 1).
    """

    fractions: Tensor
    diameters: Tensor
    layers: list[str]
    dilated_weight: Tensor
    images: Tensor
    scenes: list[tuple[str, int]]
    num_branches: int

    @property
    def mean(self) -> Tensor:
        """(L, K): dilated-branch weight averaged over scenes."""
        return self.dilated_weight.mean(0)

    @property
    def sem(self) -> Tensor:
        """(L, K): standard error of that mean over the S scenes (0 when S = 1)."""
        s = self.dilated_weight.shape[0]
        return self.dilated_weight.std(0) / math.sqrt(s) if s > 1 else torch.zeros_like(self.mean)


def sk_scale_response(
    model: nn.Module,
    fractions: Sequence[float] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    classes: Sequence[str] = CLASSES,
    seeds: Sequence[int] = (0, 1, 2, 3),
    image_size: int = 48,
    render=render_scale_sweep,
) -> SKScaleResponse:
    """Branch weights of every SK layer while only the object's size changes.

    The SKNet paper (Sec. 4.3) enlarges objects and finds that the larger kernel gains weight
    in the early and middle layers. Here each scene (class × seed, rendered by
    :func:`attn_lib.lab.data.render_scale_sweep`) is drawn at every diameter with everything else
    fixed, so the size is the only cause of a change. The numbers are reported as measured.

    Args:
        model: a network with SK layers (e.g. ``pretrained.load("classifier-sk")``).
        fractions: K object diameters as fractions of ``image_size``.
        classes: classes of the scenes; seeds: seeds of the scenes (S = len(classes) · len(seeds)).
        image_size: side of the images; the shipped classifiers were trained at 48.
        render: ``render(class name, fractions, seed, image_size)`` -> ShapesBatch; the
            scale task's :func:`attn_lib.lab.tasks.scale_sweep` keeps the clutter fixed.

    Returns:
        :class:`SKScaleResponse` with ``dilated_weight`` of shape (S, L, K).
    """
    scenes = [(name, seed) for name in classes for seed in seeds]
    images = torch.stack([render(name, fractions, seed, image_size).images for name, seed in scenes])
    s, k = images.shape[:2]
    gates = collect_attention(model, images.flatten(0, 1))
    layers = [layer for layer, g in gates.items() if "branch" in g]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no selective-kernel layer")
    # branch: (S·K, M, C); the last branch has the largest dilation.
    weight = torch.stack([gates[layer]["branch"][:, -1].mean(-1).view(s, k) for layer in layers], dim=1)
    fractions_t = torch.tensor([float(f) for f in fractions])
    num_branches = gates[layers[0]]["branch"].shape[1]
    return SKScaleResponse(fractions_t, fractions_t * image_size, layers, weight, images, scenes, num_branches)


def _draw_sk_curves(ax, response: SKScaleResponse, highlight: int | None = None) -> None:
    """Mean dilated-branch weight against object diameter, one line per layer."""
    x = response.diameters.numpy()
    colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.85, len(response.layers)))
    for layer, mean, sem, colour in zip(response.layers, response.mean, response.sem, colours):
        ax.plot(x, mean.numpy(), "o-", color=colour, ms=3.5, lw=1.5, label=layer)
        ax.fill_between(x, (mean - sem).numpy(), (mean + sem).numpy(), color=colour, alpha=0.2, lw=0)
        if highlight is not None:
            ax.plot(x[highlight], mean[highlight].item(), "o", ms=8, mfc="none", mec=colour, mew=2)
    ax.axhline(1 / response.num_branches, color="0.5", lw=1, ls="--", label="equal weights, 1/M")
    if highlight is not None:
        ax.axvline(x[highlight], color="0.4", lw=1, ls=":")
    ax.set_xlabel("object diameter (pixels)")
    ax.set_ylabel("weight of the dilated branch\n(mean over channels)")
    scenes = len(response.scenes)
    ax.set_title(f"mean ± s.e.m. over {scenes} scene{'s' * (scenes > 1)}", fontsize=9, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), title="SK layer", title_fontsize=8)


def _draw_sk_frame(response: SKScaleResponse, index: int, scene: int) -> _Figure:
    fig = figure(8.0, 2.8)
    ax_image, ax_curves = fig.subplots(1, 2, width_ratios=[1, 2.0])
    ax_image.imshow(rgb(response.images[scene, index]))
    ax_image.set_title(f"{response.scenes[scene][0]}, {response.diameters[index]:.0f} px", fontsize=10)
    ax_image.set_axis_off()
    _draw_sk_curves(ax_curves, response, highlight=index)
    return fig


def sk_scale_figure(response: SKScaleResponse, scene: int = 0) -> Figure:
    """One scene at every size (top) and each SK layer's dilated-branch weight against size.

    Args:
        response: from :func:`sk_scale_response`.
        scene: which scene's images to show (the curves average over all scenes).
    """
    k = len(response.fractions)
    fig = figure(8.0, 4.8)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 2.6])
    for ax, image, d in zip(top.subplots(1, k), response.images[scene], response.diameters):
        ax.imshow(rgb(image))
        ax.set_title(f"{d:.0f} px", fontsize=8)
        ax.set_axis_off()
    name, seed = response.scenes[scene]
    top.suptitle(f"one of the scenes ({name}, seed {seed}): only the object's size changes", fontsize=9)
    _draw_sk_curves(bottom.subplots(), response)
    return fig


def sk_scale_widget(response: SKScaleResponse, scene: int = 0) -> widgets.VBox:
    """A slider over object size: the image at that size and the curves, marked at that size."""
    frames = render_frames(lambda i: _draw_sk_frame(response, i, scene), range(len(response.fractions)))
    return frame_slider(frames, ("object size", [f"{d:.0f} px" for d in response.diameters]))


# ---------------------------------------------------------------- 4. ECA's kernel size

def eca_kernel_figure(max_channels: int = 4096, gamma: float = 2, beta: float = 1,
                      marked: Sequence[int] = (16, 64, 256, 512, 1024, 2048)) -> Figure:
    """ECA's kernel size k = ψ(C) against the channel count C (step plot, log2 axis).

    Args:
        max_channels: largest C shown.
        gamma, beta: γ and b of ψ. Paper: 2 and 1.
        marked: channel counts to annotate with their k (ResNet-50's stages by default, and
            the book's small networks at 16 and 64).
    """
    channels = np.arange(2, max_channels + 1)
    kernel = np.array([eca_kernel_size(int(c), gamma, beta) for c in channels])
    fig = figure(6.0, 3.0)
    ax = fig.subplots()
    ax.plot(channels, kernel, drawstyle="steps-post", lw=2)
    for c in marked:
        k = eca_kernel_size(c, gamma, beta)
        ax.plot(c, k, "o", color="C1", ms=5)
        ax.annotate(f"C={c}\nk={k}", (c, k), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yticks(sorted(set(kernel)))
    ax.set_ylim(kernel.min() - 1, kernel.max() + 2.5)
    ax.set_xlabel("channels C (log2 scale)")
    ax.set_ylabel("kernel size k")
    ax.set_title(rf"ECA: $k = \psi(C) = |(\log_2 C + b)/\gamma|_{{odd}}$, $\gamma={gamma:g}$, $b={beta:g}$",
                 fontsize=10)
    ax.grid(alpha=0.3)
    return fig


# ---------------------------------------------------------------- 5. cost of the reduction ratio

def reduction_cost(
    channels: int = 256, size: tuple[int, int] = (14, 14),
    reductions: Sequence[int] = (1, 2, 4, 8, 16, 32, 64), mechanisms: Sequence[str] = ("se", "cbam"),
) -> dict:
    """Parameters and multiply-adds of attention modules against their reduction ratio r.

    Each module is built for ``channels`` and run once on a (1, C, H, W) input, measured with
    :mod:`attn_lib.bench.cost`: multiply-adds of convolutions and matrix products only
    (``FlopCounterMode``'s FLOPs halved); pooling, sigmoid and the elementwise rescaling are
    not counted.

    Returns:
        ``{"reductions": [r...], "params": {mechanism: [...]}, "mult_adds": {mechanism: [...]},
        "reference": {name: (params, mult_adds)}}`` where the references, measured the same
        way, are one 3×3 convolution C → C (what the module is added to) and ECA at k = ψ(C).
    """
    x = torch.randn(1, channels, *size)
    params: dict[str, list[int]] = {}
    mult_adds: dict[str, list[int]] = {}
    for name in mechanisms:
        modules = [create(name, channels, reduction=r) for r in reductions]
        params[name] = [parameters(m) for m in modules]
        mult_adds[name] = [multiply_adds(m, x) for m in modules]
    references = {
        f"3×3 convolution {channels}→{channels}": nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        f"ECA, k = ψ({channels}) = {eca_kernel_size(channels)}": create("eca", channels),
    }
    reference = {name: (parameters(m), multiply_adds(m, x)) for name, m in references.items()}
    return {"reductions": list(reductions), "params": params, "mult_adds": mult_adds, "reference": reference}


def reduction_cost_figure(channels: int = 256, size: tuple[int, int] = (14, 14),
                          reductions: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
                          mechanisms: Sequence[str] = ("se", "cbam")) -> Figure:
    """Two panels, parameters and multiply-adds against r (log-log), the references dashed.

    Arguments as in :func:`reduction_cost`; the paper's default r = 16 is marked.
    """
    cost = reduction_cost(channels, size, reductions, mechanisms)
    fig = figure(8.0, 3.3)
    for ax, key, label in zip(fig.subplots(1, 2), ("params", "mult_adds"),
                              ("parameters", "multiply-adds (pooling, σ,\nrescaling not counted)")):
        for i, name in enumerate(mechanisms):
            # Hollow markers of growing size: CBAM's parameters are SE's plus 98, so they overlap.
            ax.plot(cost["reductions"], cost[key][name], "-", marker="osD^v"[i % 5], ms=5 + 2 * i, mfc="none",
                    mew=1.5, color=f"C{i}", label=name.upper())
        for j, (ref, values) in enumerate(cost["reference"].items()):
            ax.axhline(values[key == "mult_adds"], color=f"C{len(mechanisms) + j}", ls="--", lw=1.2, label=ref)
        ax.axvline(16, color="0.5", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(cost["reductions"], [str(r) for r in cost["reductions"]])
        ax.set_xlabel("reduction ratio r (dotted: the papers' 16)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"Cost of one module at C = {channels}, H×W = {size[0]}×{size[1]}", fontsize=11)
    return fig


# ---------------------------------------------------------------- 6. channel gates over many images

def channel_heatmap_figure(
    model: nn.Module, images: Tensor, groups: Tensor, group_names: Sequence[str],
    layers: Sequence[str] | None = None, by: str = "class",
) -> Figure:
    """Mean channel gate per group (rows) and channel (columns), one panel per layer, on [0, 1].

    Two hand-picked images are not a summary: this averages the gates of every image in each
    group (its class, or on the cued task its cue) and prints each layer's spread ratio
    (:func:`attn_lib.lab.meaning.gate_spread`): how far the group means lie apart, relative
    to how much the gates vary within a group. A ratio near 0 means the gate is the same
    whatever the group; well above 1, the gate tells the groups apart.

    Args:
        model: a network with channel gates (se, scse, cbam, eca).
        images: (N, 3, H, W); groups: (N,) int group of each image; group_names: G names.
        layers: which layers (default: every layer with a channel gate).
        by: what the groups are, for the axis label ("class", "cue").
    """
    from ..lab.meaning import gate_spread

    images = as_batch(images)
    gates = collect_attention(model, images)
    available = {layer: g["channel"].flatten(1) for layer, g in gates.items()
                 if "channel" in g and "combined" not in g}
    chosen = select_layers(list(available), layers, "a channel gate")
    groups = torch.as_tensor(groups)
    if groups.shape != (len(images),) or groups.min() < 0 or groups.max() >= len(group_names):
        raise ValueError(
            f"groups must be (N,) = ({len(images)},) ints in [0, {len(group_names)}), "
            f"got shape {tuple(groups.shape)}")
    norm = matplotlib.colors.Normalize(0, 1)
    fig = figure(1.2 + 2.6 * len(chosen), 0.9 + 0.28 * len(group_names))
    axes = fig.subplots(1, len(chosen), squeeze=False)[0]
    for ax, layer in zip(axes, chosen):
        values = available[layer]
        means = torch.stack([values[groups == g].mean(0) for g in range(len(group_names))])
        ax.imshow(means.numpy(), cmap=HEATMAP, norm=norm, aspect="auto", interpolation="nearest")
        ax.set_title(f"{layer}\nspread ratio {gate_spread(values, groups):.2f}", fontsize=8)
        ax.set_xlabel(f"channel (C = {values.shape[1]})", fontsize=8)
        ax.set_yticks(range(len(group_names)), group_names if ax is axes[0] else [], fontsize=8)
    axes[0].set_ylabel(by)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=HEATMAP), ax=axes, label="mean channel gate",
                 shrink=0.9)
    return fig


# ---------------------------------------------------------------- 7. a gate beside an attribution

def gate_and_gradcam_figure(
    model: nn.Module, images: Tensor, masks: Tensor, gate_layer: str, cam_layer: str,
) -> Figure:
    """Each image with its object's contour, a spatial gate on [0, 1], and Grad-CAM.

    A gate is what the network multiplied by; Grad-CAM (:func:`attn_lib.lab.attribution.grad_cam`)
    estimates what the predicted class's score depends on. They answer different questions and
    need not agree. Grad-CAM has no natural scale: it is shown divided by its maximum.
    """
    from ..lab.attribution import grad_cam

    images = as_batch(images)
    data = _spatial_data(model, images, [gate_layer], (0.0, 1.0), masks)
    cams = grad_cam(model, images, cam_layer)
    norm = matplotlib.colors.Normalize(0, 1)
    fig = figure(7.4, 0.5 + 1.8 * len(images))
    axes = fig.subplots(len(images), 3, squeeze=False)
    for r, image in enumerate(images):
        grey = (image * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0).numpy()
        axes[r, 0].imshow(rgb(image))
        for ax, field in ((axes[r, 1], data.maps[gate_layer][r]), (axes[r, 2], cams[r])):
            ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
            ax.imshow(field.numpy(), cmap=HEATMAP, norm=norm, alpha=0.65)
        for ax in axes[r]:
            ax.contour(masks[r].float().numpy(), levels=[0.5], colors=CONTOUR, linewidths=1)
            ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_title("input, object outlined", fontsize=8)
    axes[0, 1].set_title(f"spatial gate\n{gate_layer}", fontsize=8)
    axes[0, 2].set_title(f"Grad-CAM / its max\n{cam_layer}", fontsize=8)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=HEATMAP), ax=axes, shrink=0.8,
                 label="gate (true scale) | Grad-CAM (relative)")
    return fig


def learning_curves_figure(runs: dict[str, list[dict]], baseline: str = "none",
                           early_epochs: int | None = None, names: dict[str, str] | None = None,
                           columns: int = 3) -> Figure:
    """Validation score after every epoch, one panel per model of ``runs`` but the baseline.

    Args:
        runs: {attention: [record of each seed]}, as :func:`attn_lib.lab.records.lab_records`
            returns them; every record needs its learning curve (``record["curve"]``).
        baseline: the model drawn in grey in every panel (its seeds' mean), for reference.
        early_epochs: where a dotted line marks the early budget, if given.
        names: display names of the attentions (default: the keys).
        columns: panels per row; the figure is sized for the book's text column.

    Each panel shows the model's seeds as thin lines and their mean as a thick one.
    """
    names = names or {}
    models = [a for a in runs if a != baseline]
    if baseline not in runs or not models:
        raise ValueError(f"learning_curves_figure: runs must hold {baseline!r} and another model; "
                         f"got {sorted(runs)}")

    def curves(records):
        missing = [r["name"] for r in records if "curve" not in r]
        if missing:
            raise ValueError(f"learning_curves_figure: no learning curve in {missing}")
        return np.array([r["curve"]["val_score"] for r in records])

    base = curves(runs[baseline]).mean(0)
    rows = math.ceil(len(models) / columns)
    fig = figure(7.2, 2.0 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, columns, sharex=True, sharey=True)).flatten()
    epochs = np.arange(1, len(base) + 1)
    colour = matplotlib.colormaps["tab10"]
    for i, (ax, attention) in enumerate(zip(axes, models)):
        scores = curves(runs[attention])
        ax.plot(epochs, base, color="0.55", lw=2, label=f"{names.get(baseline, baseline)}, mean")
        for seed in scores:
            ax.plot(epochs[:len(seed)], seed, color=colour(i), lw=0.7, alpha=0.6)
        ax.plot(epochs, scores.mean(0), color=colour(i), lw=2,
                label=f"{names.get(attention, attention)}, {len(scores)} seeds")
        if early_epochs:
            ax.axvline(early_epochs, color="0.3", ls=":", lw=1)
        ax.set_title(names.get(attention, attention), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes[len(models):]:
        ax.set_visible(False)
    for ax in axes[::columns]:
        ax.set_ylabel("validation accuracy", fontsize=9)
    for ax in axes[(rows - 1) * columns:]:
        ax.set_xlabel("epoch", fontsize=9)
    return fig


def fast_and_far_figure(rows_by_task: dict[str, list[dict]], names: dict[str, str] | None = None) -> Figure:
    """A forest plot of each mechanism's difference to no attention, at the early budget
    (hollow markers) and at the plateau (filled), with Welch's 95 % intervals; one panel per
    task. ``rows_by_task``: {task: :func:`attn_lib.lab.records.fast_and_far` rows}. A
    verdict that survives Holm's adjustment is drawn in black, the others in grey."""
    names = names or {}
    tasks = [t for t, rows in rows_by_task.items() if rows]
    if not tasks:
        raise ValueError("fast_and_far_figure: no rows to draw")
    heights = [len(rows_by_task[t]) for t in tasks]
    fig = figure(7.2, 0.45 * sum(heights) + 0.9 * len(tasks) + 0.3)
    axes = np.atleast_1d(fig.subplots(len(tasks), 1, sharex=True,
                                      gridspec_kw={"height_ratios": heights}))
    budgets = (("early", "o", "none", "6 epochs"), ("plateau", "o", "full", "18 epochs"))
    for ax, task in zip(axes, tasks):
        rows = rows_by_task[task]
        for y, row in enumerate(rows):
            for offset, (budget, marker, fill, label) in zip((0.17, -0.17), budgets):
                cell = row[budget]
                if cell is None:
                    continue
                d = cell["difference"]
                colour = "black" if cell["verdict"] != "no measurable difference" else "0.55"
                ax.errorbar(d.mean, y + offset, xerr=[[d.mean - d.low], [d.high - d.mean]], fmt=marker,
                            color=colour, mfc=colour if fill == "full" else "white", ms=6, capsize=2)
        ax.axvline(0, color="0.3", lw=1)
        ax.set_yticks(range(len(rows)), [names.get(r["attention"], r["attention"]) for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(f"{task}: accuracy minus no attention's", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    handles = [matplotlib.lines.Line2D([], [], marker=marker, color="black", ls="none",
                                       mfc="black" if fill == "full" else "white", label=label)
               for _, marker, fill, label in budgets]
    handles.append(matplotlib.lines.Line2D([], [], color="0.55", label="no measurable difference"))
    fig.legend(handles=handles, loc="outside upper center", ncols=3, fontsize=8, frameon=False)
    axes[-1].set_xlabel("difference in validation accuracy (95 % interval)", fontsize=9)
    return fig
