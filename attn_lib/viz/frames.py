"""Frames and sliders: the book's self-displaying Figure, PNG frames, and sliders linked in the browser.

A widget never calls back into Python: its frames are rendered to PNG once, when the cell runs, and a
slider picks the visible one through ``ipywidgets.jslink``, a link the browser executes.
"""

from __future__ import annotations

import io
from typing import Sequence

import ipywidgets as widgets
import PIL.Image
from matplotlib.figure import Figure

__all__ = ["FACE_COLOR", "FRAME_DPI", "STILL_DPI", "HEATMAP", "figure", "figure_png", "frame_slider", "render_frames"]

FRAME_DPI = 80  # widget frames: ~15-25 kB each, so a widget of 20 frames stays under 400 kB
STILL_DPI = 100  # stills are shown once, so they can afford more pixels
OPACITIES = (0.0, 0.25, 0.5, 0.75, 1.0)
ORDERS = ("by index", "sorted")
HEATMAP = "inferno"
# Every figure is painted on this face, never on a transparent one: the book's dark theme
# would otherwise show dark labels on a dark page.
FACE_COLOR = "white"


class _Figure(Figure):
    """A Figure that displays itself: IPython shows it through ``_repr_png_`` even when
    pyplot was never imported (a bare Figure would print as text), and it is never held by
    pyplot, so it is not shown twice nor kept alive after the cell."""

    def _repr_png_(self) -> bytes:
        return figure_png(self, STILL_DPI)


def figure(width: float, height: float) -> Figure:
    """An empty Figure (inches) that a notebook shows as a compact PNG, with or without pyplot.

    The book's own figures start here, so every still looks and weighs the same, on a
    solid white face that stays readable in the site's dark theme.
    """
    return _Figure(figsize=(width, height), layout="constrained", facecolor=FACE_COLOR)


def figure_png(fig: Figure, dpi: float = FRAME_DPI, colors: int | None = 256) -> bytes:
    """Render ``fig`` to PNG bytes (every widget frame and every still goes through here).

    With ``colors``, the image is reduced to an adaptive palette of that many colours,
    without dithering: a third of the bytes of full colour, so that a widget's frames fit
    in a page; None keeps every colour. Either way the PNG is opaque, on
    :data:`FACE_COLOR` whatever the figure's own face, so that no frame turns transparent
    in the site's dark theme.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor=FACE_COLOR, transparent=False)
    if colors is None:
        return buffer.getvalue()
    # Fast octree keeps the smooth colour maps smoother than median cut, at a tenth of the time.
    image = PIL.Image.open(buffer).convert("RGB").quantize(
        colors, PIL.Image.Quantize.FASTOCTREE, dither=PIL.Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def frame_slider(frames: Sequence, *axes: tuple[str, Sequence[str]],
                 start: Sequence[int] | None = None) -> widgets.VBox:
    """Precomputed PNG frames behind one slider per axis, linked in the browser.

    Args:
        frames: PNG bytes nested as deep as there are axes: ``frames[i]`` for one axis,
            ``frames[i][j]`` for two (i: first axis, j: second), and so on.
        axes: ``(description, labels)`` per slider, outermost first; ``labels[i]`` is shown
            by the slider when it selects index i.
        start: the index each slider starts at (default: 0 for every axis), so that the
            first view a reader sees can be an informative one.

    Returns:
        ``VBox([slider, ..., container])``. The container is a ``Stack`` (ipywidgets 8) or a
        ``Tab`` (7.x, which has no Stack; its tab bar is a second control) of Image widgets;
        with two axes, an outer container whose children are inner containers, the second
        slider linked to every inner one. The links are in ``box.links`` (``jslink`` objects,
        saved with the widget state). No Python callback is involved.
    """
    if not axes:
        raise ValueError("frame_slider needs at least one (description, labels) axis")
    start = [0] * len(axes) if start is None else list(start)
    if len(start) != len(axes) or not all(0 <= i < len(labels) for i, (_, labels) in zip(start, axes)):
        raise ValueError(f"start must give one index per axis, within its labels; got {start} for "
                         f"axes of {[len(labels) for _, labels in axes]} labels")
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
        box = _stack([nest(f, depth + 1) for f in level_frames], labels, start[depth])
        containers[depth].append(box)
        return box

    outer = nest(frames, 0)
    sliders, links = [], []
    for (description, labels), level, index in zip(axes, containers, start):
        slider = widgets.SelectionSlider(
            options=list(labels), index=index, description=description, continuous_update=True,
            style={"description_width": "90px"}, layout=widgets.Layout(width="420px"),
        )
        sliders.append(slider)
        links += [widgets.jslink((slider, "index"), (box, "selected_index")) for box in level]
    out = widgets.VBox([*sliders, outer])
    out.links = links
    return out


def _stack(children: list[widgets.Widget], labels: list[str], selected: int = 0) -> widgets.Widget:
    """A container that shows only its selected child."""
    if hasattr(widgets, "Stack"):  # ipywidgets >= 8
        return widgets.Stack(children=children, selected_index=selected)
    tab = widgets.Tab(children=children)
    for i, label in enumerate(labels):
        tab.set_title(i, label)
    tab.selected_index = selected
    return tab


def render_frames(draw, states: Sequence, dpi: float = FRAME_DPI) -> list[bytes]:
    """PNG of ``draw(state)`` (a Figure) for each state."""
    return [figure_png(draw(state), dpi) for state in states]
