"""Networks with attention: placement, shapes, and the papers' parameter counts."""

import pytest
import torch

import attn_lib
from attn_lib.models import UNet, resnet18, resnet50, sknet50


def millions(model) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


@pytest.mark.parametrize(
    "attention, paper",
    [(None, 25.56), ("se", 28.09), ("cbam", 28.09), ("eca", 25.56), ("bam", 25.92),
     ("ge", 25.56), ("srm", 25.62), ("fca", 28.07)],
)
def test_resnet50_parameter_counts_match_the_papers(attention, paper):
    assert round(millions(resnet50(attention=attention)), 2) == paper


def test_sknet50_parameter_count_matches_the_paper():
    assert round(millions(sknet50()), 1) == 27.5


def test_eca_adds_only_its_kernel_weights():
    extra = sum(p.numel() for p in resnet50(attention="eca").parameters()) - sum(
        p.numel() for p in resnet50().parameters()
    )
    # ψ(C) at the blocks' output widths 256, 512, 1024, 2048 (3, 4, 6, 3 blocks) is 5, 5, 5, 7.
    assert extra == 3 * 5 + 4 * 5 + 6 * 5 + 3 * 7


@pytest.mark.parametrize("attention", [None, *attn_lib.MECHANISMS])
@pytest.mark.parametrize("factory", [resnet18, resnet50])
def test_resnets_run_with_every_attention(factory, attention):
    kwargs = {"attention_kwargs": {"groups": 4}} if attention == "sk" else {}
    model = factory(num_classes=5, attention=attention, stem="small", width=8, **kwargs).eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 5)


def test_block_attention_sits_on_the_residual_branch_before_the_addition():
    model = resnet50(attention="se")
    names = [n for n, _ in model.attention_modules()]
    assert len(names) == 16 and all(n.endswith(".attention") for n in names)
    block = model.stages[2][0]
    assert block.attention.channels == 1024  # 4 × planes, the residual branch's output
    # The shortcut bypasses the gate: a zero gate leaves exactly relu(shortcut(x)).
    for p in block.attention.fc2.parameters():
        torch.nn.init.constant_(p, -1e4)
    block.eval()
    x = torch.randn(1, 512, 8, 8)
    torch.testing.assert_close(block(x), torch.relu(block.shortcut(x)))


def test_bam_sits_at_the_three_stage_boundaries():
    model = resnet50(attention="bam")
    modules = model.attention_modules()
    assert [n for n, _ in modules] == ["stage_attention.0", "stage_attention.1", "stage_attention.2"]
    assert [m.channels for _, m in modules] == [256, 512, 1024]


def test_sknet50_uses_selective_kernels_in_every_block():
    model = sknet50(num_classes=10)
    sks = [m for _, m in model.attention_modules()]
    assert len(sks) == 16 and all(isinstance(m, attn_lib.SelectiveKernel) for m in sks)
    assert [sks[i].channels for i in (0, 3, 7, 13)] == [128, 256, 512, 1024]
    assert model.eval()(torch.randn(1, 3, 64, 64)).shape == (1, 10)


def test_sk_replaces_the_first_convolution_of_basic_blocks():
    model = resnet18(attention="sk")
    sks = model.attention_modules()
    assert len(sks) == 8 and all(n.endswith("residual.0") for n, _ in sks)
    assert [m.channels for _, m in sks][1:3] == [64, 64]


def test_resnet_rejects_unknown_attention():
    with pytest.raises(ValueError, match="attention must be None or one of"):
        resnet18(attention="transformer")


@pytest.mark.parametrize("places", [("encoder",), ("decoder",), ("encoder", "decoder")])
def test_unet_places_scse_where_asked(places):
    model = UNet(num_classes=3, width=8, depth=3, attention="scse", places=places)
    names = [n for n, _ in model.attention_modules()]
    expected = {"encoder": 4, "decoder": 3}
    assert len(names) == sum(expected[p] for p in places)
    assert all(n.split("_")[0] in places for n in names)
    assert model.eval()(torch.randn(1, 3, 37, 50)).shape == (1, 3, 37, 50)


def test_unet_without_attention_and_bad_places():
    assert UNet(attention=None).attention_modules() == []
    with pytest.raises(ValueError, match="places must be a non-empty subset"):
        UNet(attention="scse", places=("bottleneck",))


# The non-local block's and GC's attention entries are softmax weights over positions
# (small by construction) and GC's additive term, not gates in (0, 1).
@pytest.mark.parametrize("name", [n for n in attn_lib.MECHANISMS if n not in ("nonlocal", "gc")])
def test_no_gate_is_saturated_at_initialisation(name):
    """Fewer than 10 % of a fresh network's gates lie outside [0.05, 0.95].

    A saturated gate passes almost no gradient. Kaiming fan-out initialisation of the C→1
    convolutions once put 72 % of sSE's and 50 % of BAM's gates there before any training; the
    ResNet now leaves the attention layers' own initialisation alone. BAM's channel and spatial
    entries are logits; the gate it multiplies by is "combined".
    """
    from attn_lib.viz import collect_attention

    torch.manual_seed(0)
    model = attn_lib.models.resnet18(num_classes=5, attention=name).eval()
    gates = collect_attention(model, torch.randn(4, 3, 64, 64))
    values = torch.cat([
        v.flatten() for g in gates.values() for key, v in g.items()
        if "combined" not in g or key == "combined"
    ])
    saturated = ((values < 0.05) | (values > 0.95)).float().mean().item()
    assert saturated < 0.10, f"{name}: {saturated:.1%} of the gates saturated at initialisation"
