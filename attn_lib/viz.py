"""Figures and slider widgets that show what each attention module computed.

Every figure is a *still* (``*_figure``, a matplotlib Figure that teaches on its own, for the
readers who scroll past); the channel, spatial and SK figures also come as a *widget*
(``*_widget``) whose frames are drawn by the same code as the still, one state per frame. A widget never calls back into Python: its frames
are rendered to PNG once, when the cell runs, and a slider picks the visible one through
``ipywidgets.jslink``, a link the browser executes. So the widget works the same in Jupyter,
in Colab (ipywidgets 7.7) and on the static website, where there is no kernel at all.

    model = attn_lib.pretrained.load("classifier-cbam")
    x = attn_lib.data.make_shapes(2, 48, seed=1).images         # (2, 3, 48, 48)
    spatial_maps_figure(model, x)                               # still: every layer at once
    spatial_maps_widget(model, x)                               # sliders: layer × opacity

Gates come from :func:`collect_attention`, one forward pass with the model in eval mode.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as widgets
import matplotlib
import numpy as np
import PIL.Image
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.nn import functional as F

from ._base import AttentionModule, attention_modules
from .cost import multiply_adds, parameters
from .data import CLASSES, render_scale_sweep
from .eca import eca_kernel_size
from .registry import create

__all__ = [
    "collect_attention", "spatial_map", "frame_slider", "figure", "figure_png",
    "channel_weights_figure", "channel_weights_widget",
    "spatial_maps_figure", "spatial_maps_widget",
    "SKScaleResponse", "sk_scale_response", "sk_scale_figure", "sk_scale_widget",
    "eca_kernel_figure", "reduction_cost", "reduction_cost_figure",
]

FRAME_DPI = 80  # widget frames: ~15-25 kB each, so a widget of 20 frames stays under 400 kB
STILL_DPI = 100  # stills are shown once, so they can afford more pixels
OPACITIES = (0.0, 0.25, 0.5, 0.75, 1.0)
ORDERS = ("by index", "sorted")
HEATMAP = "inferno"


# ---------------------------------------------------------------- gates of a whole model

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


# ---------------------------------------------------------------- frames and sliders

class _Figure(Figure):
    """A Figure that displays itself: IPython shows it through ``_repr_png_`` even when
    pyplot was never imported (a bare Figure would print as text), and it is never held by
    pyplot, so it is not shown twice nor kept alive after the cell."""

    def _repr_png_(self) -> bytes:
        return figure_png(self, STILL_DPI)


def figure(width: float, height: float) -> Figure:
    """An empty Figure (inches) that a notebook shows as a compact PNG, with or without pyplot.

    The book's own figures start here, so every still looks and weighs the same.
    """
    return _Figure(figsize=(width, height), layout="constrained")


def figure_png(fig: Figure, dpi: float = FRAME_DPI, colors: int | None = 256) -> bytes:
    """Render ``fig`` to PNG bytes (every widget frame and every still goes through here).

    With ``colors``, the image is reduced to an adaptive palette of that many colours,
    without dithering: a third of the bytes of full colour, so that a widget's frames fit
    in a page; None keeps every colour.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    if colors is None:
        return buffer.getvalue()
    # Fast octree keeps the smooth colour maps smoother than median cut, at a tenth of the time.
    image = PIL.Image.open(buffer).convert("RGB").quantize(
        colors, PIL.Image.Quantize.FASTOCTREE, dither=PIL.Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def frame_slider(frames: Sequence, *axes: tuple[str, Sequence[str]]) -> widgets.VBox:
    """Precomputed PNG frames behind one slider per axis, linked in the browser.

    Args:
        frames: PNG bytes nested as deep as there are axes: ``frames[i]`` for one axis,
            ``frames[i][j]`` for two (i: first axis, j: second), and so on.
        axes: ``(description, labels)`` per slider, outermost first; ``labels[i]`` is shown
            by the slider when it selects index i.

    Returns:
        ``VBox([slider, ..., container])``. The container is a ``Stack`` (ipywidgets 8) or a
        ``Tab`` (7.x, which has no Stack; its tab bar is a second control) of Image widgets;
        with two axes, an outer container whose children are inner containers, the second
        slider linked to every inner one. The links are in ``box.links`` (``jslink`` objects,
        saved with the widget state). No Python callback is involved.
    """
    if not axes:
        raise ValueError("frame_slider needs at least one (description, labels) axis")
    containers: list[list[widgets.Widget]] = [[] for _ in axes]

    def nest(level_frames, depth: int) -> widgets.Widget:
        if (depth == len(axes)) != isinstance(level_frames, bytes):
            raise TypeError(f"frames must nest {len(axes)} deep ({len(axes)} axes) with PNG bytes at the bottom; "
                            f"got {type(level_frames).__name__} at depth {depth}")
        if depth == len(axes):
            return widgets.Image(value=level_frames, format="png", layout=widgets.Layout(max_width="100%"))
        labels = list(axes[depth][1])
        if len(level_frames) != len(labels):
            raise ValueError(f"axis {axes[depth][0]!r} has {len(labels)} labels but {len(level_frames)} frames")
        box = _stack([nest(f, depth + 1) for f in level_frames], labels)
        containers[depth].append(box)
        return box

    outer = nest(frames, 0)
    sliders, links = [], []
    for (description, labels), level in zip(axes, containers):
        slider = widgets.SelectionSlider(
            options=list(labels), index=0, description=description, continuous_update=True,
            style={"description_width": "90px"}, layout=widgets.Layout(width="420px"),
        )
        sliders.append(slider)
        links += [widgets.jslink((slider, "index"), (box, "selected_index")) for box in level]
    out = widgets.VBox([*sliders, outer])
    out.links = links
    return out


def _stack(children: list[widgets.Widget], labels: list[str]) -> widgets.Widget:
    """A container that shows only its selected child."""
    if hasattr(widgets, "Stack"):  # ipywidgets >= 8
        return widgets.Stack(children=children, selected_index=0)
    tab = widgets.Tab(children=children)
    for i, label in enumerate(labels):
        tab.set_title(i, label)
    tab.selected_index = 0
    return tab


def _frames(draw, states: Sequence, dpi: float = FRAME_DPI) -> list[bytes]:
    """PNG of ``draw(state)`` (a Figure) for each state."""
    return [figure_png(draw(state), dpi) for state in states]


# ---------------------------------------------------------------- shared helpers

def _as_batch(images: Tensor) -> Tensor:
    if not isinstance(images, Tensor) or images.dim() not in (3, 4) or images.shape[-3] != 3:
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"expected images of shape (N, 3, H, W) or (3, H, W), got {got}")
    return images if images.dim() == 4 else images[None]


def _rgb(image: Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (H, W, 3) for imshow."""
    return image.permute(1, 2, 0).clamp(0, 1).numpy()


def _select_layers(available: Sequence[str], layers: Sequence[str] | None, what: str) -> list[str]:
    if not available:
        raise ValueError(f"the model has no attention module with {what}")
    if layers is None:
        return list(available)
    missing = [name for name in layers if name not in available]
    if missing:
        raise ValueError(f"no layer named {missing} has {what}; layers with {what}: {list(available)}")
    return list(layers)


def _channel_values(gates: dict[str, Tensor]) -> tuple[Tensor, str] | None:
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


# ---------------------------------------------------------------- 1. channel weights

@dataclass(frozen=True)
class _ChannelData:
    names: list[str]  # one per series
    thumbnails: Tensor  # (K, 3, H, W): the first image of each series
    values: dict[str, Tensor]  # layer -> (K, C)
    ylabel: str


def _channel_data(model: nn.Module, inputs, names: Sequence[str] | None, layers) -> _ChannelData:
    # A 4-D tensor is K images, one series each; a sequence is K batches, each averaged.
    groups = list(_as_batch(inputs)[:, None]) if isinstance(inputs, Tensor) else [_as_batch(g) for g in inputs]
    names = list(names) if names is not None else [f"image {k + 1}" for k in range(len(groups))]
    if len(names) != len(groups):
        raise ValueError(f"got {len(groups)} inputs but {len(names)} names")
    gates = collect_attention(model, torch.cat(groups))
    available = {layer: v for layer, g in gates.items() if (v := _channel_values(g)) is not None}
    chosen = _select_layers(list(available), layers, "a channel gate")
    bounds = np.cumsum([0] + [len(g) for g in groups])
    values = {
        layer: torch.stack([available[layer][0][a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])
        for layer in chosen
    }
    ylabel = available[chosen[0]][1]
    return _ChannelData(names, torch.stack([g[0] for g in groups]), values, ylabel)


def _draw_channels(data: _ChannelData, layers: Sequence[str], order: str) -> _Figure:
    """Thumbnails of the inputs (left, top-aligned) and, per layer, each input's values."""
    rows = max(len(layers), len(data.names))
    fig = figure(7.0, 0.5 + max(1.75 * len(layers), 1.1 * len(data.names)))
    left, right = fig.subfigures(1, 2, width_ratios=[1, 6])
    for k, ax in enumerate(left.subplots(rows, 1, squeeze=False)[:, 0]):
        ax.set_axis_off()
        if k < len(data.names):
            ax.imshow(_rgb(data.thumbnails[k]))
            # The column is narrow: long names ("circle (mean of 40)") wrap rather than clip.
            ax.set_title(textwrap.fill(data.names[k], 14), color=f"C{k}", fontsize=8, fontweight="bold")
    sorted_ = order == "sorted"
    for ax, layer in zip(right.subplots(len(layers), 1, squeeze=False)[:, 0], layers):
        values = data.values[layer]
        channels = values.shape[1]
        for k, series in enumerate(values):
            y = series.sort(descending=True).values if sorted_ else series
            ax.plot(np.arange(channels), y.numpy(), "o-", color=f"C{k}", lw=0.9, ms=2.5, alpha=0.85,
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
    frames = [_frames(lambda order: _draw_channels(data, [layer], order), ORDERS) for layer in data.values]
    return frame_slider(frames, ("layer", list(data.values)), ("order", ORDERS))


# ---------------------------------------------------------------- 2. spatial maps

@dataclass(frozen=True)
class _SpatialData:
    images: Tensor  # (K, 3, H, W)
    maps: dict[str, Tensor]  # layer -> (K, H, W), upsampled to the image
    native: dict[str, tuple[int, int]]  # layer -> (H', W') the module computed
    what: str
    value_range: tuple[float, float]  # of the colour scale


def _spatial_data(model: nn.Module, images: Tensor, layers, value_range: tuple[float, float]) -> _SpatialData:
    images = _as_batch(images)
    gates = collect_attention(model, images)
    available = {layer: v for layer, g in gates.items() if (v := spatial_map(g)) is not None}
    chosen = _select_layers(list(available), layers, "a spatial gate")
    size = images.shape[-2:]
    # Bilinear, so that a 6×6 map reads as the smooth field it stands for, not as blocks.
    maps = {layer: F.interpolate(available[layer][0], size=size, mode="bilinear", align_corners=False)[:, 0]
            for layer in chosen}
    native = {layer: tuple(available[layer][0].shape[-2:]) for layer in chosen}
    return _SpatialData(images, maps, native, available[chosen[0]][1], tuple(value_range))


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
            axes[r, 0].imshow(_rgb(image))
        for ax, layer in zip(axes[r, int(with_input):], layers):
            ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
            ax.imshow(data.maps[layer][r].numpy(), cmap=HEATMAP, norm=norm, alpha=opacity)
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
    value_range: tuple[float, float] = (0.0, 1.0),
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
    """
    data = _spatial_data(model, images, layers, value_range)
    return _draw_spatial(data, list(data.maps), opacity)


def spatial_maps_widget(
    model: nn.Module, images: Tensor, layers: Sequence[str] | None = None,
    opacities: Sequence[float] = OPACITIES, value_range: tuple[float, float] = (0.0, 1.0),
) -> widgets.VBox:
    """:func:`spatial_maps_figure` one layer at a time: sliders layer × opacity.

    A frame shows each image's map over the grey image (opacity 0: the image alone), without
    the colour input column of the still, which would double the bytes of every frame.
    """
    data = _spatial_data(model, images, layers, value_range)
    frames = [_frames(lambda a: _draw_spatial(data, [layer], a, with_input=False), opacities)
              for layer in data.maps]
    return frame_slider(frames, ("layer", list(data.maps)), ("opacity", [f"{a:g}" for a in opacities]))


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
) -> SKScaleResponse:
    """Branch weights of every SK layer while only the object's size changes.

    The SKNet paper (Sec. 4.3) enlarges objects and finds that the larger kernel gains weight
    in the early and middle layers. Here each scene (class × seed, rendered by
    :func:`attn_lib.data.render_scale_sweep`) is drawn at every diameter with everything else
    fixed, so the size is the only cause of a change. The numbers are reported as measured.

    Args:
        model: a network with SK layers (e.g. ``pretrained.load("classifier-sk")``).
        fractions: K object diameters as fractions of ``image_size``.
        classes: classes of the scenes; seeds: seeds of the scenes (S = len(classes) · len(seeds)).
        image_size: side of the images; the shipped classifiers were trained at 48.

    Returns:
        :class:`SKScaleResponse` with ``dilated_weight`` of shape (S, L, K).
    """
    scenes = [(name, seed) for name in classes for seed in seeds]
    images = torch.stack([render_scale_sweep(name, fractions, seed, image_size).images for name, seed in scenes])
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
    ax_image.imshow(_rgb(response.images[scene, index]))
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
        ax.imshow(_rgb(image))
        ax.set_title(f"{d:.0f} px", fontsize=8)
        ax.set_axis_off()
    name, seed = response.scenes[scene]
    top.suptitle(f"one of the scenes ({name}, seed {seed}): only the object's size changes", fontsize=9)
    _draw_sk_curves(bottom.subplots(), response)
    return fig


def sk_scale_widget(response: SKScaleResponse, scene: int = 0) -> widgets.VBox:
    """A slider over object size: the image at that size and the curves, marked at that size."""
    frames = _frames(lambda i: _draw_sk_frame(response, i, scene), range(len(response.fractions)))
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
    :mod:`attn_lib.cost`: multiply-adds of convolutions and matrix products only
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
