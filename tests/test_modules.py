"""Every module: shapes, gradients, dtypes, layouts, compile/export, and the API they share."""

import pytest
import torch

import attn_lib
from conftest import NAMES, build

GRID = [  # (N, C, H, W): batch 1, 1×1 maps, odd sizes, C below the reduction ratio
    (1, 8, 1, 1), (2, 8, 7, 5), (1, 64, 13, 13), (3, 32, 1, 9), (2, 64, 4, 4),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", GRID, ids=lambda s: "x".join(map(str, s)))
def test_forward_keeps_shape_and_attention_has_documented_shapes(name, shape):
    n, c, h, w = shape
    module = build(name, c)
    if n == 1:
        module.eval()  # BAM and SK batch-normalise pooled vectors: training needs N > 1
    x = torch.randn(shape)
    y = module(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    expected = {
        "channel": (n, c, 1, 1), "spatial": (n, 1, h, w), "branch": (n, 2, c), "combined": (n, c, h, w),
        "local": (n, c, h, w), "height": (n, c, h, 1), "width": (n, c, 1, w),
        "neuron": (n, c, h, w), "pairwise": (n, h * w, h * w), "context": (n, 1, h, w),
        "transform": (n, c, 1, 1),
    }
    gates = module.attention(x)
    assert gates, f"{name} returned no attention"
    for key, gate in gates.items():
        assert tuple(gate.shape) == expected[key], key
        assert not gate.requires_grad


@pytest.mark.parametrize("name", NAMES)
def test_attention_is_what_forward_applies(name):
    """The gates returned by attention() reproduce forward's output."""
    module = build(name, 16).eval()
    x = torch.randn(2, 16, 6, 5)
    y, g = module(x), module.attention(x)
    if name in ("se", "eca", "ge", "srm", "fca"):
        expected = x * g["channel"]
    elif name == "coord":
        expected = x * g["height"] * g["width"]
    elif name == "triplet":
        expected = x * (g["width"] + g["height"] + g["spatial"]) / 3
    elif name == "simam":
        expected = x * g["neuron"]
    elif name == "gc":  # fusion by addition
        expected = x + g["transform"]
    elif name == "nonlocal":  # the block's response to A·g
        n, c, h, w = x.shape
        values = module.g(x).flatten(2).transpose(1, 2)
        expected = module._respond(x, g["pairwise"] @ values)
    elif name == "sse":
        expected = x * g["spatial"]
    elif name == "scse":
        expected = x * (g["channel"] + g["spatial"])
    elif name == "cbam":
        expected = x * g["channel"] * g["spatial"]
    elif name == "bam":
        expected = x * (1 + torch.sigmoid(g["channel"] + g["spatial"]))
    else:  # sk: a convex combination of the branches, weighted by the branch attention
        feats = [branch(x) for branch in module.branches]
        expected = sum(f * g["branch"][:, i, :, None, None] for i, f in enumerate(feats))
    torch.testing.assert_close(y, expected)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_float64(name):
    module = build(name, 8, reduction=4).double()
    x = torch.randn(2, 8, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_bfloat16_matches_float32(name):
    module = build(name, 32).eval()
    x = torch.randn(2, 32, 8, 8)
    y32 = module(x)
    y16 = module.to(torch.bfloat16)(x.bfloat16())
    assert y16.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), y32, atol=0.1, rtol=0.05)


@pytest.mark.parametrize("name", NAMES)
def test_channels_last_matches_contiguous(name):
    module = build(name, 32).eval()
    x = torch.randn(2, 32, 9, 7)
    y = module(x)
    y_cl = module.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(y_cl, y, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_torch_compile_matches_eager(name):
    torch._dynamo.reset()
    module = build(name, 32).eval()
    x = torch.randn(2, 32, 8, 8)
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(compiled(x), module(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_torch_export_matches_eager(name):
    module = build(name, 32).eval()
    x = torch.randn(2, 32, 8, 8)
    program = torch.export.export(module, (x,))
    torch.testing.assert_close(program.module()(x), module(x), atol=1e-6, rtol=1e-6)


def test_registry_lists_every_mechanism_with_its_paper():
    assert NAMES == ["se", "sse", "scse", "cbam", "bam", "sk", "eca", "ge", "srm", "fca", "coord",
                     "triplet", "simam", "nonlocal", "gc"]
    for m in attn_lib.mechanisms():
        assert m.year in (2018, 2019, 2020, 2021) and m.title and m.citation_key
        # SimAM is in PMLR (ICML) only; every other paper is on arXiv.
        assert m.url.startswith("https://arxiv.org/abs/" if m.name != "simam" else "https://proceedings.mlr.press/")
        assert isinstance(attn_lib.create(m.name, 64), m.module)


def test_registry_rejects_keywords_a_module_does_not_take():
    with pytest.raises(TypeError, match=r"eca \(ECA\) got unexpected keyword\(s\) \['reduction'\]; it accepts"):
        attn_lib.create("eca", 64, reduction=16)


def test_registry_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="unknown attention 'senet'.*se, sse, scse, cbam, bam, sk, eca"):
        attn_lib.create("senet", 64)


@pytest.mark.parametrize("name", NAMES)
def test_hidden_widths_never_zero(name):
    module = build(name, 4, reduction=64)
    for layer in module.modules():
        for attr in ("in_channels", "out_channels", "num_features"):
            assert getattr(layer, attr, 1) >= 1
    assert torch.isfinite(module.eval()(torch.randn(1, 4, 3, 3))).all()
