"""Part II, second half (Triplet Attention, SimAM, the non-local block, GC): each module's
defining property, its papers' numbers, its edge cases and its errors."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import attn_lib
from attn_lib import CBAM, GlobalContext, NonLocal, SimAM, TripletAttention
from attn_lib.models import ResNet, resnet50
from attn_lib.models.resnet import BasicBlock, Bottleneck


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- Triplet Attention


@pytest.mark.parametrize("channels", [1, 8, 64, 2048])
def test_triplet_has_300_parameters_whatever_c(channels):
    assert n_params(TripletAttention(channels)) == 300
    assert n_params(TripletAttention(channels, spatial=False)) == 200


def test_resnet50_with_triplet_adds_exactly_4800_parameters():
    assert n_params(resnet50(attention="triplet")) - n_params(resnet50()) == 16 * 300


@pytest.mark.parametrize("key, shuffled_dim", [("width", 2), ("height", 3), ("spatial", 1)])
def test_triplet_each_gate_ignores_the_order_along_the_axis_it_pools(key, shuffled_dim):
    """g_H pools over H (max and mean), so shuffling the rows leaves it unchanged; likewise
    g_W and the columns, g_C and the channels. The other two gates do change."""
    module = TripletAttention(6).eval()
    x = torch.randn(2, 6, 9, 7)
    order = torch.randperm(x.shape[shuffled_dim])
    shuffled = x.index_select(shuffled_dim, order)
    before, after = module.attention(x), module.attention(shuffled)
    torch.testing.assert_close(after[key], before[key])
    for other in set(before) - {key}:
        assert not torch.allclose(after[other], before[other])


def test_triplet_spatial_branch_is_cbams_spatial_gate_with_a_batch_norm():
    """The (H, W) branch: CBAM's spatial gate with a batch norm, its input stacked [max; mean]
    where CBAM stacks [mean; max]."""
    triplet = TripletAttention(8).eval()
    with torch.no_grad():
        triplet.height_width.bn.running_mean.fill_(0.3)
        triplet.height_width.bn.running_var.fill_(2.0)
    cbam = CBAM(8, channel_gate=False, spatial_norm=True).eval()
    spatial = cbam.spatial_attention
    with torch.no_grad():
        spatial.conv.weight.copy_(triplet.height_width.conv.weight.flip(1))  # swap max and mean
        spatial.norm.load_state_dict(triplet.height_width.bn.state_dict())
    x = torch.randn(2, 8, 10, 6)
    torch.testing.assert_close(triplet.attention(x)["spatial"], cbam.attention(x)["spatial"])


def test_triplet_batch_norms_use_the_authors_momentum_and_a_batch_of_one_trains():
    module = TripletAttention(4)
    assert {m.momentum for m in module.modules() if isinstance(m, nn.BatchNorm2d)} == {0.01}
    module(torch.randn(1, 4, 2, 2)).sum().backward()  # a batch of one trains
    with pytest.raises(ValueError, match="each branch's batch norm needs more than one value"):
        module(torch.randn(1, 4, 1, 1))  # the (H, W) plane has a single value


def test_triplet_without_the_spatial_branch_averages_two_gates():
    module = TripletAttention(5, spatial=False).eval()
    x = torch.randn(2, 5, 6, 4)
    gates = module.attention(x)
    assert set(gates) == {"width", "height"}
    torch.testing.assert_close(module(x), x * (gates["width"] + gates["height"]) / 2)


@pytest.mark.parametrize("kernel_size", [0, 4, -3, 2.0, True])
def test_triplet_rejects_a_bad_kernel_size(kernel_size):
    with pytest.raises(ValueError, match="kernel_size must be a positive odd int"):
        TripletAttention(8, kernel_size=kernel_size)


# ---------------------------------------------------------------- SimAM


def test_simam_gate_is_the_sigmoid_of_the_inverse_minimal_energy():
    """e*_t = 4(σ² + λ) / ((t − μ)² + 2σ² + 2λ), the paper's closed-form minimum; the gate is
    sigmoid(1 / e*)."""
    lam = 1e-4
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    mu = x.mean((2, 3), keepdim=True)
    var = ((x - mu) ** 2).sum((2, 3), keepdim=True) / (6 * 5 - 1)
    energy = 4 * (var + lam) / ((x - mu) ** 2 + 2 * var + 2 * lam)
    torch.testing.assert_close(SimAM(3, lambda_=lam).attention(x)["neuron"], torch.sigmoid(1 / energy))


def test_simam_has_no_parameters_and_its_gate_lies_between_sigmoid_half_and_one():
    module = SimAM(16)
    assert n_params(module) == 0 and not list(module.buffers())
    gate = module.attention(torch.randn(4, 16, 8, 8) * 10)["neuron"]
    assert gate.min() >= torch.sigmoid(torch.tensor(0.5)) and gate.max() <= 1
    assert n_params(resnet50(attention="simam")) == n_params(resnet50())


def test_simam_on_a_1x1_map_is_defined_with_a_finite_gradient():
    x = torch.randn(3, 4, 1, 1, requires_grad=True)
    y = SimAM(4)(x)
    torch.testing.assert_close(y, x * torch.sigmoid(torch.tensor(0.5)))
    y.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_simam_larger_lambda_flattens_the_gate():
    x = torch.randn(2, 8, 7, 7)
    spread = [SimAM(8, lambda_=lam).attention(x)["neuron"].std() for lam in (1e-4, 0.1, 10.0)]
    assert spread[0] > spread[1] > spread[2]


@pytest.mark.parametrize("block, index", [(Bottleneck, 4), (BasicBlock, 4)])
def test_simam_sits_right_after_the_3x3_convolution_before_its_batch_norm(block, index):
    """As in the authors' ResNets: a bottleneck's only 3×3 convolution, a basic block's second."""
    net = ResNet(block, (1, 1, 1, 1), 10, "simam", stem="small", width=8)
    for stage in net.stages:
        layers = list(stage[0].residual)
        simam = [i for i, m in enumerate(layers) if isinstance(m, SimAM)]
        assert simam == [index]
        conv, bn = layers[index - 1], layers[index + 1]
        assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3)
        assert isinstance(bn, nn.BatchNorm2d)
        assert isinstance(stage[0].attention, nn.Identity)


@pytest.mark.parametrize("lam", [0, -1e-4, "0.1", True, float("nan")])
def test_simam_rejects_a_bad_lambda(lam):
    with pytest.raises(ValueError, match="lambda_ must be a positive number"):
        SimAM(8, lambda_=lam)


# ---------------------------------------------------------------- the non-local block


def _trained_like(module: NonLocal) -> NonLocal:
    """The same block with a non-zero batch-norm scale (a fresh one is the identity)."""
    with torch.no_grad():
        module.bn.weight.uniform_(0.5, 1.5)
        module.bn.running_mean.normal_()
    return module.eval()


def test_a_fresh_nonlocal_block_is_the_identity():
    x = torch.randn(2, 16, 5, 7)
    for module in (NonLocal(16), NonLocal(16).eval(), NonLocal(16, subsample=True)):
        torch.testing.assert_close(module(x), x)


@pytest.mark.parametrize("subsample, keys", [(False, 9 * 7), (True, 5 * 4)])
def test_nonlocal_attention_rows_are_softmaxes_over_the_key_positions(subsample, keys):
    a = NonLocal(8, subsample=subsample).attention(torch.randn(2, 8, 9, 7))["pairwise"]
    assert a.shape == (2, 63, keys)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, 63))


def test_nonlocal_is_dot_product_attention_over_positions_with_the_codes_scale():
    module = _trained_like(NonLocal(16))
    x = torch.randn(2, 16, 6, 5)
    q, k, v = (conv(x).flatten(2).transpose(1, 2) for conv in (module.theta, module.phi, module.g))
    a = torch.softmax(q @ k.transpose(1, 2) / 8 ** 0.5, -1)  # C/2 = 8
    torch.testing.assert_close(module.attention(x)["pairwise"], a)
    y = (a @ v).transpose(1, 2).reshape(2, 8, 6, 5)
    torch.testing.assert_close(module(x), module.bn(module.out(y)) + x, atol=1e-5, rtol=1e-5)
    # PyTorch's fused attention computes the same product.
    fused = F.scaled_dot_product_attention(q, k, v, scale=module.softmax_scale)
    torch.testing.assert_close(fused, a @ v, atol=1e-5, rtol=1e-5)
    module.scale = False  # the paper's equation: no scale
    torch.testing.assert_close(module.attention(x)["pairwise"], torch.softmax(q @ k.transpose(1, 2), -1))


def test_nonlocal_is_equivariant_to_any_permutation_of_the_positions():
    """No position enters the block except through x: permute the pixels, the output follows."""
    module = _trained_like(NonLocal(8))
    x = torch.randn(2, 8, 6, 6)
    order = torch.randperm(36)
    shuffled = x.flatten(2)[:, :, order].view_as(x)
    torch.testing.assert_close(module(shuffled).flatten(2), module(x).flatten(2)[:, :, order],
                               atol=1e-5, rtol=1e-5)


def test_resnet50_gets_one_nonlocal_block_before_the_last_block_of_res4():
    net = resnet50(attention="nonlocal")
    found = net.attention_modules()
    assert [name for name, _ in found] == ["stages.2.5"]  # res4: six blocks, the block before the last
    assert isinstance(net.stages[2][6], Bottleneck) and found[0][1].channels == 1024
    assert n_params(net) - n_params(resnet50()) == 3 * (1024 * 512 + 512) + 512 * 1024 + 1024 + 2 * 1024


def test_a_one_block_stage_gets_the_nonlocal_block_at_its_input():
    net = ResNet(BasicBlock, (1, 1, 1, 1), 5, "nonlocal", stem="small", width=16)
    (name, block), = net.attention_modules()
    assert name == "stages.2.0" and block.channels == 32  # res3's output, before res4's block


# ---------------------------------------------------------------- GC


def test_a_fresh_gc_block_is_the_identity_and_multiplicative_fusion_halves():
    x = torch.randn(2, 32, 5, 6)
    torch.testing.assert_close(GlobalContext(32)(x), x)
    torch.testing.assert_close(GlobalContext(32, fusion="mul")(x), x * 0.5)


def test_gc_pools_one_context_with_one_softmax_map_for_every_position():
    module = GlobalContext(16, reduction=4).eval()
    nn.init.normal_(module.transform[-1].weight)
    x = torch.randn(2, 16, 7, 5)
    gates = module.attention(x)
    alpha = gates["context"]
    torch.testing.assert_close(alpha.sum((2, 3)), torch.ones(2, 1))
    context = (x * alpha).sum((2, 3), keepdim=True)
    torch.testing.assert_close(gates["transform"], module.transform(context))
    torch.testing.assert_close(module(x), x + gates["transform"])


def test_gc_with_a_constant_mask_and_multiplication_is_an_se_gate_with_a_layer_norm():
    module = GlobalContext(16, reduction=4, fusion="mul").eval()
    nn.init.zeros_(module.mask.weight)  # every position weighs 1/HW: the context is the mean
    nn.init.normal_(module.transform[-1].weight)
    x = torch.randn(2, 16, 6, 6)
    conv1, norm, _, conv2 = module.transform
    se_gate = torch.sigmoid(conv2(F.relu(norm(conv1(x.mean((2, 3), keepdim=True))))))
    torch.testing.assert_close(module(x), x * se_gate)


def test_resnet50_with_gc_in_c3_to_c5_has_the_papers_28_08_million_parameters():
    net = resnet50(attention="gc")
    assert n_params(net) == 28_078_773 and round(n_params(net) / 1e6, 2) == 28.08
    assert {name.split(".")[1] for name, _ in net.attention_modules()} == {"1", "2", "3"}
    assert len(net.attention_modules()) == 4 + 6 + 3


def test_gc_trains_on_a_batch_of_one():
    GlobalContext(8, reduction=4)(torch.randn(1, 8, 1, 1)).sum().backward()


def test_gc_rejects_an_unknown_fusion():
    with pytest.raises(ValueError, match="fusion must be 'add' or 'mul', got 'max'"):
        GlobalContext(8, fusion="max")


def test_every_new_mechanism_is_in_the_registry_with_its_placement():
    placements = {m.name: (m.placement, m.stages) for m in attn_lib.mechanisms()}
    assert placements["triplet"] == ("block", (0, 1, 2, 3))
    assert placements["simam"][0] == "after-conv"
    assert placements["nonlocal"][0] == "between"
    assert placements["gc"] == ("block", (1, 2, 3))
