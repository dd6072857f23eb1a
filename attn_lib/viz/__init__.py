"""Figures and slider widgets that show what each attention module computed.

Every figure is a *still* (``*_figure``, a matplotlib Figure that teaches on its own, for the
readers who scroll past); the channel, spatial and SK figures also come as a *widget*
(``*_widget``) whose frames are drawn by the same code as the still, one state per frame. A widget never calls back into Python: its frames
are rendered to PNG once, when the cell runs, and a slider picks the visible one through
``ipywidgets.jslink``, a link the browser executes. So the widget works the same in Jupyter,
in Colab (ipywidgets 7.7) and on the static website, where there is no kernel at all.

    model = attn_lib.lab.pretrained.load("classifier-cbam")
    x = attn_lib.lab.data.make_shapes(2, 48, seed=1).images         # (2, 3, 48, 48)
    spatial_maps_figure(model, x)                               # still: every layer at once
    spatial_maps_widget(model, x)                               # sliders: layer × opacity

Gates come from :func:`collect_attention`, one forward pass with the model in eval mode.

Files: ``frames.py`` (the Figure every still starts from, PNG frames, sliders), ``gates.py``
(reading gates out of a model), ``figures.py`` (the book's figures and widgets), ``diagram.py``
(a module's computation drawn with graphviz).
"""

from .diagram import diagram
from .figures import (
    OPACITIES, ORDERS, SKScaleResponse, channel_heatmap_figure, gate_and_gradcam_figure, channel_weights_figure, channel_weights_widget, eca_kernel_figure,
    fast_and_far_figure, learning_curves_figure, reduction_cost, reduction_cost_figure, sk_scale_figure, sk_scale_response, sk_scale_widget,
    spatial_maps_figure, spatial_maps_widget,
)
from .frames import figure, figure_png, frame_slider
from .gates import collect_attention, spatial_map

__all__ = [
    "collect_attention", "spatial_map", "frame_slider", "figure", "figure_png", "diagram",
    "channel_weights_figure", "channel_weights_widget",
    "spatial_maps_figure", "spatial_maps_widget",
    "SKScaleResponse", "sk_scale_response", "sk_scale_figure", "sk_scale_widget",
    "eca_kernel_figure", "reduction_cost", "reduction_cost_figure", "OPACITIES", "ORDERS",
    "channel_heatmap_figure", "gate_and_gradcam_figure", "learning_curves_figure",
    "fast_and_far_figure",
]
