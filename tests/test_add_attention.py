"""add_attention: a registered mechanism inserted into torchvision's and timm's ResNets.

Checked: every inserted module runs once per forward pass (forward hooks), sits where its paper
puts it (a block's output is relu(gate(last norm) + shortcut), computed by hand), the parameter
counts of torchvision's ResNet-50 match the papers and this library's own ResNet-50, the
existing weights are kept, the book's figures read the gates, and bad input is refused.
"""

import pytest
import torch
from torch import nn

import attn_lib
from attn_lib import viz
from attn_lib.book.environment import import_torchvision
from attn_lib.models import NormThenAttention, add_attention

torchvision = import_torchvision()
import timm  # noqa: E402  (imports torchvision, so after the workaround)

BLOCK = [n for n, m in attn_lib.MECHANISMS.items() if m.placement == "block"]
STAGE = [n for n, m in attn_lib.MECHANISMS.items() if m.placement == "stage"]
# SimAM after each block's 3×3 convolution; one non-local block before res4's last block.
OTHER = [n for n, m in attn_lib.MECHANISMS.items() if m.placement in ("after-conv", "between")]
# Blocks in layer2-layer4 (GC's c3-c5): ResNet-18 2 + 2 + 2, ResNet-50 4 + 6 + 3.
C3_C5 = {8: 6, 16: 13}
BUILDERS = {
    "torchvision-resnet18": (lambda: torchvision.models.resnet18(), 8),
    "torchvision-resnet50": (lambda: torchvision.models.resnet50(), 16),
    "timm-resnet18": (lambda: timm.create_model("resnet18"), 8),
    "timm-resnet50": (lambda: timm.create_model("resnet50"), 16),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("builder", list(BUILDERS))
@pytest.mark.parametrize("name", BLOCK + STAGE + OTHER)
def test_every_added_module_runs_once_in_the_forward_pass(builder, name):
    build, blocks = BUILDERS[builder]
    model = add_attention(build(), name).eval()
    found = attn_lib.attention_modules(model)
    expected = {"bam": 3, "nonlocal": 1, "gc": C3_C5[blocks]}.get(name, blocks)
    assert len(found) == expected
    assert all(isinstance(m, attn_lib.MECHANISMS[name].module) for _, m in found)
    calls = {qualified: 0 for qualified, _ in found}

    def count(qualified):
        def hook(module, args, output):
            calls[qualified] += 1
            assert output.shape == args[0].shape
        return hook

    handles = [m.register_forward_hook(count(q)) for q, m in found]
    with torch.no_grad():
        model(torch.randn(2, 3, 64, 64))
    for h in handles:
        h.remove()
    assert set(calls.values()) == {1}, calls


@pytest.mark.parametrize("library", ["torchvision", "timm"])
def test_block_attention_sits_on_the_residual_branch_before_the_addition(library):
    torch.manual_seed(0)
    model = torchvision.models.resnet50() if library == "torchvision" else timm.create_model("resnet50")
    add_attention(model, "cbam").eval()
    block = model.layer2[0]  # a Bottleneck with a strided projection shortcut
    gate = block.bn3[1] if library == "torchvision" else block.se
    norm = block.bn3[0] if library == "torchvision" else block.bn3
    act = (lambda t: torch.relu(t))
    x = torch.randn(2, 256, 16, 16)
    with torch.no_grad():
        h = act(block.bn1(block.conv1(x)))
        h = act(block.bn2(block.conv2(h)))
        expected = act(gate(norm(block.conv3(h))) + block.downsample(x))
        torch.testing.assert_close(block(x), expected)


def test_bam_sits_after_the_first_three_stages():
    model = add_attention(torchvision.models.resnet50(), "bam")
    assert [type(getattr(model, s)[-1]).__name__ for s in ("layer1", "layer2", "layer3", "layer4")] == [
        "BAM", "BAM", "BAM", "Bottleneck"]
    assert [getattr(model, s)[-1].channels for s in ("layer1", "layer2", "layer3")] == [256, 512, 1024]


@pytest.mark.parametrize("name, paper_millions", [("se", 28.09), ("cbam", 28.09), ("eca", 25.56), ("bam", 25.92)])
def test_torchvision_resnet50_counts_match_the_papers(name, paper_millions):
    model = add_attention(torchvision.models.resnet50(), name)
    assert round(n_params(model) / 1e6, 2) == paper_millions
    # The same placement as this library's own network, to the parameter.
    assert n_params(model) == n_params(attn_lib.models.resnet50(attention=name))


def test_existing_weights_are_kept():
    model = torchvision.models.resnet18()
    before = {name: p for name, p in model.named_parameters()}
    add_attention(model, "se")
    after = {id(p) for p in model.parameters()}
    assert all(id(p) in after for p in before.values())
    # Everything but the wrapped norms keeps its state-dict key.
    moved = {k for k in before if ".bn2." in k}
    keys = dict(model.named_parameters())
    assert all(k in keys for k in set(before) - moved)
    assert all(k.replace(".bn2.", ".bn2.0.") in keys for k in moved)
    assert isinstance(model.layer1[0].bn2, NormThenAttention)


def test_the_books_figures_read_the_gates_of_a_torchvision_resnet50_with_cbam():
    model = add_attention(torchvision.models.resnet50(), "cbam")
    images = torch.rand(2, 3, 64, 64)
    gates = viz.collect_attention(model, images)
    assert len(gates) == 16
    first = gates["layer1.0.bn3.1"]
    assert first["channel"].shape == (2, 256, 1, 1) and first["spatial"].shape == (2, 1, 16, 16)
    assert viz.spatial_maps_figure(model, images, layers=["layer1.0.bn3.1", "layer4.2.bn3.1"]) is not None
    assert viz.channel_weights_figure(model, [images[:1], images[1:]], names=["a", "b"],
                                      layers=["layer4.2.bn3.1"]) is not None


def test_export_of_a_torchvision_resnet18_with_cbam():
    model = add_attention(torchvision.models.resnet18(), "cbam").eval()
    x = torch.randn(1, 3, 64, 64)
    exported = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x))


def test_sk_points_to_sknet50():
    with pytest.raises(ValueError, match=r"models\.sknet50"):
        add_attention(torchvision.models.resnet50(), "sk")


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)),
    torchvision.models.vgg11(),
    attn_lib.models.resnet18(),  # this library's own blocks take attention= at construction
])
def test_a_model_without_recognised_residual_blocks_is_refused(model):
    with pytest.raises(ValueError, match="no residual block it recognises"):
        add_attention(model, "se")
    with pytest.raises(ValueError, match="layer1, layer2 and layer3"):
        add_attention(model, "bam")


def test_attention_is_not_added_twice():
    model = add_attention(torchvision.models.resnet18(), "se")
    with pytest.raises(ValueError, match="already has attention"):
        add_attention(model, "eca")
    model = add_attention(timm.create_model("resnet18"), "eca")
    with pytest.raises(ValueError, match="already has attention"):
        add_attention(model, "se")
    model = add_attention(torchvision.models.resnet18(), "bam")
    with pytest.raises(ValueError, match="already ends with attention"):
        add_attention(model, "bam")


def test_bad_names_and_objects():
    with pytest.raises(ValueError, match="unknown attention 'nope'; expected one of: se"):
        add_attention(torchvision.models.resnet18(), "nope")
    with pytest.raises(TypeError, match="expected a torch.nn.Module, got str"):
        add_attention("resnet18", "se")
    with pytest.raises(TypeError, match="unexpected keyword"):
        add_attention(torchvision.models.resnet18(), "se", kernel_size=3)


def test_hyper_parameters_reach_every_module():
    model = add_attention(torchvision.models.resnet18(), "se", reduction=4)
    assert {m.reduction for _, m in attn_lib.attention_modules(model)} == {4}


@pytest.mark.parametrize("library", ["torchvision", "timm"])
@pytest.mark.parametrize("name", ["triplet", "simam", "nonlocal", "gc"])
def test_part2_second_half_lands_where_the_library_resnet50_puts_it(library, name):
    """The same parameter count as attn_lib.models.resnet50(attention=name), and the place:
    SimAM after conv2, the non-local block before layer3's last block, GC in layer2-layer4."""
    model = torchvision.models.resnet50() if library == "torchvision" else timm.create_model("resnet50")
    add_attention(model, name)
    assert n_params(model) == n_params(attn_lib.models.resnet50(attention=name))
    names = [q for q, _ in attn_lib.attention_modules(model)]
    if name == "simam":
        assert names[0] == "layer1.0.conv2.1" and len(names) == 16
    elif name == "nonlocal":
        assert names == ["layer3.5.0"]
    elif name == "gc":
        assert {q.split(".")[0] for q in names} == {"layer2", "layer3", "layer4"}
    with pytest.raises(ValueError, match="already has attention"):
        add_attention(model, name)
