"""Each module's defining property, checked against its paper's definition."""

import pytest
import torch

import attn_lib
from attn_lib import CBAM, ECA, SCSE, BAM, SelectiveKernel, SpatialSqueezeExcitation, SqueezeExcitation


def effective_gate(module, x):
    """out / x: the multiplicative gate a module applied at every element."""
    return module(x) / x


def test_se_gate_is_one_value_per_channel_and_ignores_pixel_order():
    se = SqueezeExcitation(16, reduction=4)
    x = torch.randn(2, 16, 5, 6).abs() + 0.1
    gate = effective_gate(se, x)
    torch.testing.assert_close(gate, gate[:, :, :1, :1].expand_as(gate))
    perm = torch.randperm(30)
    x_perm = x.flatten(2)[:, :, perm].view_as(x)
    torch.testing.assert_close(se.attention(x_perm)["channel"], se.attention(x)["channel"])
    torch.testing.assert_close(se(x_perm), x_perm * se.attention(x)["channel"])


def test_se_has_a_relu_so_its_excitation_is_not_linear():
    se = SqueezeExcitation(16, reduction=4)
    z1, z2 = torch.randn(1, 16, 1, 1), torch.randn(1, 16, 1, 1)
    logits = lambda z: torch.logit(se.gate(z))  # noqa: E731
    # A linear map (the notes' cSE) would satisfy f(z1 + z2) = f(z1) + f(z2) - f(0).
    zero = torch.zeros(1, 16, 1, 1)
    assert not torch.allclose(logits(z1 + z2), logits(z1) + logits(z2) - logits(zero), atol=1e-4)


def test_sse_gate_at_a_pixel_depends_on_that_pixel_only():
    sse = SpatialSqueezeExcitation(8)
    x = torch.randn(1, 8, 6, 7)
    base = sse.attention(x)["spatial"]
    x2 = x.clone()
    x2[0, :, 2, 3] += 1.0
    changed = (sse.attention(x2)["spatial"] - base).abs()[0, 0] > 0
    assert changed[2, 3] and changed.sum() == 1
    gate = effective_gate(sse, x.abs() + 0.1)
    torch.testing.assert_close(gate, gate[:, :1].expand_as(gate))  # shared by all channels


def test_scse_gate_is_a_channel_term_plus_a_pixel_term():
    scse = SCSE(16, reduction=4)
    x = torch.randn(2, 16, 5, 5).abs() + 0.1
    gate = effective_gate(scse, x)
    # Additive separability: G[c,i,j] - G[c,0,0] - G[0,i,j] + G[0,0,0] = 0.
    interaction = gate - gate[:, :, :1, :1] - gate[:, :1, :, :] + gate[:, :1, :1, :1]
    torch.testing.assert_close(interaction, torch.zeros_like(interaction), atol=1e-5, rtol=0)
    g = scse.attention(x)
    torch.testing.assert_close(gate, (g["channel"] + g["spatial"]).expand_as(gate), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("aggregation", ["max", "mul"])
def test_scse_other_aggregations(aggregation):
    scse = SCSE(8, reduction=2, aggregation=aggregation)
    x = torch.randn(2, 8, 4, 4)
    g = scse.attention(x)
    a, b = x * g["channel"], x * g["spatial"]
    expected = torch.maximum(a, b) if aggregation == "max" else a * b
    torch.testing.assert_close(scse(x), expected)


def test_eca_gate_of_channel_c_moves_only_with_channels_within_half_kernel():
    channels, k = 32, 5
    eca = ECA(channels, kernel_size=k)
    x = torch.randn(1, channels, 4, 4)
    base = eca.attention(x)["channel"].flatten()
    for c0 in (0, 10, 31):
        x2 = x.clone()
        x2[0, c0] += 1.0
        moved = ((eca.attention(x2)["channel"].flatten() - base).abs() > 0).nonzero().flatten()
        expected = [c for c in range(channels) if abs(c - c0) <= (k - 1) // 2]
        assert moved.tolist() == expected


@pytest.mark.parametrize("channels, k", [(64, 3), (256, 5), (512, 5), (1024, 5), (2048, 7), (16, 3), (1, 1)])
def test_eca_adaptive_kernel_size(channels, k):
    assert attn_lib.eca_kernel_size(channels) == k
    assert ECA(channels).kernel_size == k
    assert sum(p.numel() for p in ECA(channels).parameters()) == k  # k weights, no bias


def test_cbam_spatial_map_reaches_exactly_three_pixels_out():
    cbam = CBAM(8, channel_gate=False)
    x = torch.randn(1, 8, 15, 15, requires_grad=True)
    spatial = cbam.spatial_attention.gate(x)
    spatial[0, 0, 7, 7].backward()
    reach = x.grad.abs().sum(1)[0] > 0
    rows, cols = reach.nonzero().T
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (4, 10, 4, 10)
    assert reach.sum() == 49


def test_cbam_channel_gate_uses_average_and_max_through_one_mlp():
    cbam = CBAM(16, reduction=4, spatial_gate=False)
    half = cbam.channel_attention
    x = torch.randn(2, 16, 5, 5)
    mlp = lambda z: half.fc2(torch.relu(half.fc1(z)))  # noqa: E731
    expected = torch.sigmoid(mlp(x.mean((2, 3), keepdim=True)) + mlp(x.amax((2, 3), keepdim=True)))
    torch.testing.assert_close(cbam.attention(x)["channel"], expected)
    assert set(cbam.attention(x)) == {"channel"}


def test_cbam_applies_channel_then_spatial_in_sequence():
    cbam = CBAM(16, reduction=4)
    x = torch.randn(2, 16, 6, 6)
    refined = x * cbam.channel_attention.gate(x)
    torch.testing.assert_close(cbam.attention(x)["spatial"], cbam.spatial_attention.gate(refined))


def test_bam_is_residual_and_sums_branches_before_the_sigmoid():
    bam = BAM(32).eval()
    x = torch.randn(2, 32, 9, 9)
    g = bam.attention(x)
    torch.testing.assert_close(g["combined"], torch.sigmoid(g["channel"] + g["spatial"]))
    gain = bam(x) / x
    assert (gain > 1).all() and (gain < 2).all()  # F + F⊗M with M in (0, 1)


def test_bam_spatial_branch_is_dilated_by_four():
    bam = BAM(32, reduction=16)
    dilated = [m for m in bam.spatial_branch if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert [m.dilation for m in dilated] == [(4, 4), (4, 4)]
    assert bam.spatial_branch[0].out_channels == 2


def test_sk_output_is_a_per_channel_convex_combination_of_its_branches():
    sk = SelectiveKernel(64).eval()
    x = torch.randn(2, 64, 8, 8)
    a = sk.attention(x)["branch"]
    torch.testing.assert_close(a.sum(1), torch.ones(2, 64))
    u1, u2 = (branch(x) for branch in sk.branches)
    v = sk(x)
    assert (v >= torch.minimum(u1, u2) - 1e-5).all() and (v <= torch.maximum(u1, u2) + 1e-5).all()


def test_sk_branches_keep_the_map_size_and_grow_in_receptive_field():
    sk = SelectiveKernel(64, num_branches=3)
    convs = [branch[0] for branch in sk.branches]
    assert [c.dilation for c in convs] == [(1, 1), (2, 2), (3, 3)]
    assert all(c.groups == 32 for c in convs)
    assert sk.eval()(torch.randn(1, 64, 5, 7)).shape == (1, 64, 5, 7)


@pytest.mark.parametrize("channels, d", [(64, 32), (512, 32), (1024, 64)])
def test_sk_fuse_width_is_max_of_c_over_r_and_l(channels, d):
    assert SelectiveKernel(channels).squeeze[0].out_channels == d


def test_sk_stride_halves_the_map():
    sk = SelectiveKernel(64, out_channels=128, stride=2).eval()
    assert sk(torch.randn(1, 64, 8, 7)).shape == (1, 128, 4, 4)
