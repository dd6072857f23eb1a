"""Figures and widgets: gates collected per layer, frames distinct and small, sliders linked in
the browser (so the widget works without a kernel), and the state that a saved page needs."""

import io

import ipywidgets as widgets
import PIL.Image
import pytest
import torch
from ipywidgets import embed
from matplotlib.figure import Figure

from attn_lib import viz
from attn_lib.lab.data import make_shapes
from attn_lib.models import UNet
from attn_lib.models.resnet import BasicBlock, ResNet

BUDGET = 400_000  # bytes of PNG per widget


def small_resnet(attention):
    kwargs = {"attention_kwargs": {"groups": 4}} if attention == "sk" else {}
    return ResNet(BasicBlock, (1, 1, 1, 1), 5, attention, stem="small", width=8, **kwargs)


@pytest.fixture(scope="module")
def images():
    return make_shapes(2, 32, seed=1).images


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def frames_of(widget):
    return [bytes(w.value) for w in walk(widget) if isinstance(w, widgets.Image)]


def containers_of(widget):
    container = widgets.Stack if hasattr(widgets, "Stack") else widgets.Tab
    return [w for w in walk(widget) if isinstance(w, container)]


def check_widget(widget, frame_count):
    """Distinct frames within budget; every container linked to its slider through jslink."""
    frames = frames_of(widget)
    assert len(frames) == frame_count
    assert all(f.startswith(b"\x89PNG") for f in frames)
    assert len(set(frames)) == len(frames), "two frames are identical"
    assert sum(map(len, frames)) <= BUDGET
    sliders = [w for w in widget.children if isinstance(w, widgets.SelectionSlider)]
    linked = {(id(link.source[0]), link.source[1], id(link.target[0]), link.target[1]) for link in widget.links}
    assert all(isinstance(link, widgets.widget_link.Link) for link in widget.links)  # jslink, not a Python observer
    # Outer container is linked to the first slider, every inner container to the second.
    outer, inner = containers_of(widget)[0], containers_of(widget)[1:]
    assert (id(sliders[0]), "index", id(outer), "selected_index") in linked
    for box in inner:
        assert (id(sliders[1]), "index", id(box), "selected_index") in linked
    assert len(widget.links) == 1 + len(inner)


@pytest.mark.parametrize("attention", ["se", "sse", "scse", "cbam", "bam", "sk", "eca"])
def test_collect_attention_returns_every_layer_with_documented_shapes(attention, images):
    model = small_resnet(attention).train()
    gates = viz.collect_attention(model, images)
    names = [name for name, _ in model.attention_modules()]
    assert list(gates) == names
    modules = dict(model.attention_modules())
    n = images.shape[0]
    for name, g in gates.items():
        c = modules[name].out_channels if attention == "sk" else modules[name].channels
        if "channel" in g:
            assert g["channel"].shape == (n, c, 1, 1)
        if "spatial" in g:
            assert g["spatial"].shape[:2] == (n, 1)
        if "combined" in g:
            assert g["combined"].shape[:2] == (n, c) and g["combined"].shape[2:] == g["spatial"].shape[2:]
        if "branch" in g:
            assert g["branch"].shape == (n, 2, c)
    assert all(m.training for m in model.modules()), "the model's mode must be restored"


def test_collect_attention_on_a_unet_and_on_a_single_module(images):
    model = UNet(3, 2, width=4, depth=2, attention="scse").eval()
    gates = viz.collect_attention(model, images)
    assert list(gates) == [name for name, _ in model.attention_modules()] and len(gates) == 5
    assert gates["decoder_attention.1"]["spatial"].shape == (2, 1, 32, 32)
    module = small_resnet("se").stages[0][0].attention
    x = torch.randn(2, 8, 5, 5)
    gates = viz.collect_attention(module, x)
    assert torch.equal(gates["SqueezeExcitation"]["channel"], module.eval().attention(x)["channel"])


def test_collect_attention_rejects_a_model_without_attention(images):
    with pytest.raises(ValueError, match="no attention module"):
        viz.collect_attention(small_resnet(None), images)


def test_frame_slider_links_one_and_two_axes_in_the_browser():
    pngs = [viz.figure_png(viz.figure(1, 1)) for _ in range(2)]
    one = viz.frame_slider(pngs, ("step", ["a", "b"]))
    assert len(one.links) == 1 and one.links[0].source == (one.children[0], "index")
    two = viz.frame_slider([pngs, pngs, pngs], ("row", ["1", "2", "3"]), ("col", ["a", "b"]))
    assert len(two.links) == 1 + 3
    with pytest.raises(ValueError, match="3 labels but 2 frames"):
        viz.frame_slider(pngs, ("step", ["a", "b", "c"]))
    with pytest.raises(TypeError, match="nest 2 deep"):
        viz.frame_slider(pngs, ("row", ["1", "2"]), ("col", ["a"]))
    # A slider can start elsewhere than its first label; the containers show that frame too.
    started = viz.frame_slider([pngs, pngs, pngs], ("row", ["1", "2", "3"]), ("col", ["a", "b"]),
                               start=(2, 1))
    assert [s.index for s in started.children[:2]] == [2, 1]
    assert started.children[2].selected_index == 2
    assert all(inner.selected_index == 1 for inner in started.children[2].children)
    with pytest.raises(ValueError, match="one index per axis, within its labels"):
        viz.frame_slider(pngs, ("step", ["a", "b"]), start=(2,))


def test_series_named_for_a_colour_are_drawn_in_it():
    from attn_lib.viz.figures import _series_colours

    assert _series_colours(["red frame (333 images)", "green frame", "blue frame"]) == [
        "#d62728", "#2ca02c", "#1f77b4"]
    assert _series_colours(["image 1", "image 2"]) == ["C0", "C1"]
    assert _series_colours(["red a", "red b"]) == ["C0", "C1"]  # never one colour for two series


def test_widget_state_serialises_with_its_links():
    pngs = [viz.figure_png(viz.figure(1, 1)) for _ in range(2)]
    widget = viz.frame_slider([pngs, pngs], ("row", ["1", "2"]), ("col", ["a", "b"]))
    state = embed.embed_data(views=[widget])["manager_state"]["state"]
    links = [m["state"] for m in state.values() if m["model_name"] == "LinkModel"]
    slider_refs = {f"IPY_MODEL_{w.model_id}" for w in widget.children[:2]}
    ours = [link for link in links if link["source"][0] in slider_refs]
    assert len(ours) == 3
    assert all(link["source"][1] == "index" and link["target"][1] == "selected_index" for link in ours)
    assert all(link["target"][0][len("IPY_MODEL_"):] in state for link in ours)


def test_channel_and_spatial_widgets(images):
    model = small_resnet("bam").eval()  # BAM: logits and the combined gate, at 3 stage boundaries
    channel = viz.channel_weights_widget(model, images, names=["a", "b"])
    check_widget(channel, 3 * len(viz.ORDERS))
    spatial = viz.spatial_maps_widget(model, images)
    check_widget(spatial, 3 * len(viz.OPACITIES))
    assert spatial.children[1].value == "0.5"  # it opens with the gate visible over the image


def test_stills_render_and_show_themselves(images):
    model = small_resnet("scse").eval()
    by_class = [images[:1], images[1:]]
    figures = [
        viz.channel_weights_figure(model, images),
        viz.channel_weights_figure(model, by_class, names=["first", "second"], order="sorted"),
        viz.spatial_maps_figure(model, images[0], layers=["stages.1.0.attention"]),
        viz.spatial_maps_figure(small_resnet("cbam").eval(), images, value_range=(0.4, 0.6)),
        viz.eca_kernel_figure(),
        viz.reduction_cost_figure(channels=64, reductions=(4, 16)),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        assert fig._repr_png_().startswith(b"\x89PNG")  # how IPython displays it, pyplot or not


def test_every_png_is_opaque_white_behind_the_axes_even_from_a_transparent_figure():
    """Readable in the site's dark theme: no figure's background may be transparent."""
    fig = viz.figure(2, 1)
    fig.subplots().plot([0, 1])
    transparent = Figure(figsize=(2, 1), facecolor="none")
    transparent.subplots().plot([0, 1])
    for png in (fig._repr_png_(), viz.figure_png(transparent, colors=None)):
        image = PIL.Image.open(io.BytesIO(png)).convert("RGBA")
        assert min(image.getpixel((0, 0))) >= 250  # white, up to the palette's rounding
        assert image.getextrema()[3] == (255, 255)  # no pixel is even partly transparent


def test_figures_reject_models_and_options_they_cannot_show(images):
    with pytest.raises(ValueError, match="channel gate"):
        viz.channel_weights_figure(small_resnet("sse").eval(), images)
    with pytest.raises(ValueError, match="spatial gate"):
        viz.spatial_maps_figure(small_resnet("se").eval(), images)
    with pytest.raises(ValueError, match=r"no layer named \['head'\] has a spatial gate"):
        viz.spatial_maps_figure(small_resnet("cbam").eval(), images, layers=["head"])
    with pytest.raises(ValueError, match="order"):
        viz.channel_weights_figure(small_resnet("se").eval(), images, order="random")
    with pytest.raises(ValueError, match="selective-kernel"):
        viz.sk_scale_response(small_resnet("se").eval(), fractions=(0.5,), classes=("circle",), seeds=(0,))


def test_sk_scale_response_shapes_and_widget():
    model = small_resnet("sk").eval()
    fractions = (0.3, 0.6, 0.9)
    response = viz.sk_scale_response(model, fractions, classes=("circle", "cross"), seeds=(0, 1), image_size=32)
    scenes, layers, sizes = 4, 4, 3
    assert response.dilated_weight.shape == (scenes, layers, sizes)
    assert response.images.shape == (scenes, sizes, 3, 32, 32)
    assert response.mean.shape == response.sem.shape == (layers, sizes)
    assert response.layers == [name for name, _ in model.attention_modules()]
    assert torch.allclose(response.diameters, torch.tensor(fractions) * 32)
    assert ((response.dilated_weight > 0) & (response.dilated_weight < 1)).all()
    assert isinstance(viz.sk_scale_figure(response), Figure)
    widget = viz.sk_scale_widget(response)
    frames = frames_of(widget)
    assert len(frames) == sizes and len(set(frames)) == sizes and sum(map(len, frames)) <= BUDGET
    assert [(link.source[1], link.target[1]) for link in widget.links] == [("index", "selected_index")]


def test_reduction_cost_counts_what_the_se_paper_counts():
    c = 64
    cost = viz.reduction_cost(channels=c, size=(7, 7), reductions=(4, 16), mechanisms=("se", "cbam"))
    for r, params, mult_adds in zip((4, 16), cost["params"]["se"], cost["mult_adds"]["se"]):
        assert params == 2 * c * c // r + c // r + c  # W1, W2 and their biases
        assert mult_adds == 2 * c * c // r  # two 1×1 convolutions on a 1×1 map
    # CBAM adds a 7×7 convolution over 2 maps (98 weights) and runs its MLP on two descriptors.
    assert [p - q for p, q in zip(cost["params"]["cbam"], cost["params"]["se"])] == [98, 98]
    assert cost["reference"][f"3×3 convolution {c}→{c}"] == (9 * c * c, 9 * c * c * 49)
