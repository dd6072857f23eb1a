"""Architecture diagrams are generated from the code: one node per layer and per tensor operation."""

import shutil

import graphviz
import pytest
import torch
from torch import fx
from torch.fx.passes.shape_prop import ShapeProp

from attn_lib.viz.diagram import MISSING_DOT, diagram
from conftest import NAMES, build


def traced_nodes(module, shape):
    """The torch.fx nodes of forward_with_attention, with shapes, traced independently of diagram()."""
    tracer = fx.Tracer()
    tracer.traced_func_name = "forward_with_attention"
    graph = tracer.trace(module)
    ShapeProp(fx.GraphModule(module, graph)).propagate(torch.randn(shape))
    return list(graph.nodes)


@pytest.mark.parametrize("name", NAMES)
def test_diagram_has_a_node_per_leaf_module_and_per_operation(name):
    module = build(name, 32).eval()
    dot = diagram(module)
    assert isinstance(dot, graphviz.Digraph)
    source = dot.source
    leaves = [n for n, m in module.named_modules() if n and not list(m.children())]
    for leaf in leaves:
        assert f"<b>{leaf}</b>:" in source, f"{name}: layer {leaf} is missing"
    for node in traced_nodes(module, (1, 32, 8, 8)):
        meta = node.meta.get("tensor_meta")
        # get_attr: a parameter or buffer the forward reads itself (SRM's cfc, FCA's frequencies)
        drawn = ("call_function", "call_method", "call_module", "placeholder", "get_attr")
        if node.op in drawn and hasattr(meta, "shape"):
            assert f"\t{node.name} [" in source, f"{name}: operation {node.name} is missing"
            assert ", ".join(map(str, meta.shape)) in source
        elif node.op != "output":  # x.shape[0] and the like are not drawn
            assert f"\t{node.name} [" not in source
    # Every gate attention() returns ends in its own node.
    for key in module.attention(torch.randn(2, 32, 8, 8)):
        assert f"attention['{key}']" in source


def test_diagram_labels_layers_and_shapes():
    source = diagram(build("se", 64)).source
    assert "<b>fc1</b>: Conv2d 1×1 64→4" in source and "(1, 4, 1, 1)" in source
    assert "mean over H, W" in source and "σ (sigmoid)" in source
    sk = diagram(build("sk", 64), input_shape=(2, 64, 6, 6)).source
    assert "Conv2d 3×3 dilation 2 groups 32 64→64" in sk and "(2, 64, 6, 6)" in sk
    assert "concatenate along N" in diagram(build("cbam", 64)).source  # the MLP runs on both descriptors at once


def test_diagram_keeps_the_module_mode_and_rejects_other_modules():
    module = build("bam", 32).train()
    diagram(module)
    assert module.training
    with pytest.raises(TypeError, match="attention module"):
        diagram(torch.nn.Conv2d(3, 3, 1))


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot program is not installed")
def test_diagram_renders_to_svg():
    svg = diagram(build("cbam", 32)).pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "spatial_attention.conv" in svg
    assert 'fill="white"' in svg.split("<g id=\"node", 1)[0]  # a solid background, for dark pages


def test_diagram_without_dot_says_how_to_install_it(monkeypatch, tmp_path):
    """pip cannot install graphviz's `dot`: without it a chapter's diagram cell shows one line
    naming the install command instead of raising, and the chapter goes on."""
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` on PATH
    dot = diagram(build("se", 32))
    assert dot._repr_mimebundle_() == {"text/plain": MISSING_DOT}
    assert "apt-get install graphviz" in MISSING_DOT
    with pytest.raises(graphviz.ExecutableNotFound):  # explicit rendering still says what failed
        dot.pipe(format="svg")
