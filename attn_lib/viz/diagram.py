"""Architecture diagrams generated from the modules themselves, never drawn by hand.

    diagram(attn_lib.create("cbam", 64))        # a graphviz.Digraph; shows as SVG in Jupyter

The module's ``forward_with_attention`` is traced with ``torch.fx`` (so the diagram is the
code that runs, gates included), every layer from ``torch.nn`` is one box, and one example
input is propagated through the graph to label each box with the shape it outputs.
"""

from __future__ import annotations

import html
import operator
from typing import Any

import graphviz
import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from .._base import AttentionModule

__all__ = ["Diagram", "diagram", "MISSING_DOT"]

MISSING_DOT = ("This diagram needs graphviz's `dot` program, which pip cannot install: "
               "`sudo apt-get install graphviz`, `brew install graphviz` or "
               "`conda install graphviz`, then run the cell again.")

_BINARY = {operator.add: "+", operator.mul: "×", operator.sub: "−", operator.truediv: "÷",
           torch.add: "+", torch.mul: "×", torch.maximum: "max", torch.minimum: "min"}
_NAMES = {"sigmoid": "σ (sigmoid)", "amax": "max", "cat": "concatenate", "relu": "ReLU",
          "adaptive_max_pool2d": "max over H, W"}
# Operations with a dimension argument, and the word that goes before the dimensions.
_ALONG = {"mean": "over", "amax": "over", "max": "over", "sum": "over", "softmax": "along", "cat": "along"}
# Fill colours: learned layers, parameter-free operations, inputs and outputs, gates.
_FILL = {"module": "#dbe9f6", "op": "#f4f4f4", "io": "#ffffff", "gate": "#fde2c4"}


class Diagram(graphviz.Digraph):
    """A ``graphviz.Digraph`` that still displays where graphviz's ``dot`` is missing.

    Jupyter renders a Digraph by running ``dot``; without it the cell would raise deep inside
    graphviz and a chapter run top to bottom would stop there. A Diagram shows one line,
    :data:`MISSING_DOT`, instead, and the rest of the chapter runs.
    """

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": MISSING_DOT}


def diagram(
    module: AttentionModule, input_shape: tuple[int, ...] | None = None, rankdir: str = "TB"
) -> Diagram:
    """The data-flow graph of ``module.forward_with_attention``, one box per layer and operation.

    Args:
        module: an attention module (anything with ``forward_with_attention``).
        input_shape: shape of the example input. Default (1, C, 8, 8) with C = module.channels.
        rankdir: graphviz direction, "TB" (top to bottom) or "LR" (left to right).

    Returns:
        A :class:`Diagram` (a ``graphviz.Digraph``); in Jupyter it displays as SVG, or, where
        graphviz's ``dot`` program is missing, as one line saying how to install it.
        Each box reads "name: layer | output shape", e.g. "fc1: Conv2d 1×1 64→4" over
        "(1, 4, 1, 1)"; the tensors ``attention()`` returns are orange and end in an
        "attention[key]" node. Node ids are the torch.fx node names. Operations on shapes
        (``x.shape[0]``) are not drawn: only tensors flow along the edges.
    """
    if not hasattr(module, "forward_with_attention"):
        raise TypeError(f"diagram expects an attention module, got {type(module).__name__}")
    if input_shape is None:
        input_shape = (1, module.channels, 8, 8)
    tracer = fx.Tracer()  # its default leaves are the layers of torch.nn: Conv2d, BatchNorm2d, ReLU...
    tracer.traced_func_name = "forward_with_attention"  # skips forward's input check
    graph = tracer.trace(module)
    traced = fx.GraphModule(module, graph)
    was_training = module.training
    try:
        # Eval mode: a batch norm over pooled (N, C, 1, 1) vectors cannot train on N = 1.
        module.eval()
        with torch.no_grad():
            ShapeProp(traced).propagate(torch.randn(input_shape))
    finally:
        module.train(was_training)

    tensors = {node for node in graph.nodes if hasattr(node.meta.get("tensor_meta"), "shape")}
    output = next(node for node in graph.nodes if node.op == "output")
    result, gates = output.args[0] if isinstance(output.args[0], tuple) else (output.args[0], {})
    gate_nodes = set(gates.values())

    dot = Diagram(type(module).__name__, graph_attr={
        # A solid background, as for the matplotlib figures: readable in the dark theme.
        "bgcolor": "white", "rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.3",
        "fontname": "Helvetica",
        "label": f"{type(module).__name__}: forward_with_attention", "labelloc": "t", "fontsize": "14",
    }, node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "11",
                  "margin": "0.1,0.04", "height": "0.3"}, edge_attr={"arrowsize": "0.6", "color": "#555555"})
    for node in graph.nodes:
        if node not in tensors:
            continue
        kind = "io" if node.op == "placeholder" else "gate" if node in gate_nodes else (
            "module" if node.op == "call_module" else "op")
        dot.node(node.name, _label(node, traced), fillcolor=_FILL[kind],
                 shape="oval" if kind == "io" else "box")
        for source in _tensor_inputs(node, tensors):
            if source in tensors:
                dot.edge(source.name, node.name)
    sinks = [("output", result)] + [(f"attention['{key}']", node) for key, node in gates.items()]
    for i, (name, source) in enumerate(sinks):
        dot.node(f"sink_{i}", name, shape="oval", fillcolor=_FILL["io"], style="filled")
        dot.edge(source.name, f"sink_{i}", **({"style": "dashed"} if i else {}))
    return dot


def _tuple_source(node: fx.Node, tensors: set[fx.Node]) -> fx.Node | None:
    """For ``torch.max(x, 1)[0]``: the operation whose tuple result ``node`` picks from."""
    if node.target is operator.getitem and node.args[0] not in tensors and node.args[0].op == "call_function":
        return node.args[0]
    return None


def _tensor_inputs(node: fx.Node, tensors: set[fx.Node]) -> list[fx.Node]:
    """The tensors ``node`` is computed from; an element of a tuple is drawn as its operation."""
    source = _tuple_source(node, tensors) or node
    return [n for n in source.all_input_nodes if n in tensors]


def _label(node: fx.Node, traced: fx.GraphModule) -> str:
    """An HTML-like graphviz label: what the node computes, then its output shape in grey."""
    shape = tuple(node.meta["tensor_meta"].shape)
    if node.op == "placeholder":
        title = f"<b>{html.escape(node.name)}</b>"
    elif node.op == "call_module":
        layer = _describe_module(traced.get_submodule(node.target))
        title = f"<b>{html.escape(str(node.target))}</b>: {html.escape(layer)}"
    else:
        title = html.escape(_describe_op(node))
    dims = ", ".join(map(str, shape))
    return f'<{title}<br/><font point-size="9" color="#666666">({dims})</font>>'


def _describe_module(module: nn.Module) -> str:
    """``Conv2d 3×3 dilation 2 groups 8 64→64``, ``BatchNorm2d``, ``Linear 64→4``..."""
    name = type(module).__name__
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        size = module.kernel_size
        kernel = "×".join(map(str, size)) if isinstance(module, nn.Conv2d) else f"k={size[0]}"
        extras = [f"dilation {module.dilation[0]}" if max(module.dilation) > 1 else "",
                  f"groups {module.groups}" if module.groups > 1 else "",
                  f"stride {module.stride[0]}" if max(module.stride) > 1 else ""]
        return " ".join(filter(None, [name, kernel, *extras, f"{module.in_channels}→{module.out_channels}"]))
    if isinstance(module, nn.Linear):
        return f"{name} {module.in_features}→{module.out_features}"
    return name


def _describe_op(node: fx.Node) -> str:
    """``mean over H, W``, ``concatenate along C``, ``σ (sigmoid)``, ``×``, ``1 +``, ``[:, 0]``..."""
    target = node.target
    if target in _BINARY:
        symbol = _BINARY[target]
        constants = [_format(a) for a in node.args if not isinstance(a, fx.Node)]
        if not constants:
            return symbol
        # "1 +" for 1 + m, "+ 1" for m + 1: the constant stays on its side.
        return f"{constants[0]} {symbol}" if not isinstance(node.args[0], fx.Node) else f"{symbol} {constants[0]}"
    if target is operator.getitem:
        source = node.args[0]
        if source.op == "call_function" and not hasattr(source.meta.get("tensor_meta"), "shape"):
            return _describe_op(source)  # torch.max(x, 1)[0] is drawn as "max over C"
        return f"[{_format(node.args[1])}]"
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    label = _NAMES.get(name, name)
    if name not in _ALONG:
        return label
    dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0 if name == "cat" else None)
    if dim is None:  # a reduction over every element
        return label
    source = node.args[0][0] if name == "cat" else node.args[0]  # cat takes a list of tensors
    return f"{label} {_ALONG[name]} {_dims(dim, source)}"


def _dims(dim: Any, tensor: fx.Node) -> str:
    """Dimension numbers as letters for (N, C, H, W) tensors, e.g. (2, 3) -> "H, W"."""
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    rank = len(tensor.meta["tensor_meta"].shape)
    letters = "NCHW" if rank == 4 else None
    return ", ".join(letters[d] if letters else f"dim {d}" for d in dims)


def _format(value: Any) -> str:
    """A constant argument as code would write it; sizes read off ``x.shape`` by their letter."""
    if isinstance(value, tuple):
        return ", ".join(map(_format, value))
    if isinstance(value, slice):
        step = "" if value.step is None else f":{_format(value.step)}"
        return ":".join("" if v is None else _format(v) for v in (value.start, value.stop)) + step
    if isinstance(value, fx.Node):
        return _shape_symbol(value)
    return str(value)


def _shape_symbol(node: fx.Node) -> str:
    """``x.shape[0]`` -> "N" for a 4-D x; the node's name for anything else."""
    if node.target is operator.getitem and isinstance(node.args[1], int):
        source = node.args[0]
        index = node.args[1]
        if source.target is operator.getitem and isinstance(source.args[1], slice):  # x.shape[:2][i]
            index += source.args[1].start or 0
            source = source.args[0]
        if source.target is getattr and source.args[1] == "shape":
            rank = len(source.args[0].meta["tensor_meta"].shape)
            return "NCHW"[index] if rank == 4 else f"shape[{index}]"
    return node.name
