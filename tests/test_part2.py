"""Part II (Gather-Excite, SRM, FcaNet, Coordinate Attention, MobileNetV2): each module's
defining property, its papers' numbers, its edge cases and its errors."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import attn_lib
from attn_lib import SRM, CoordinateAttention, FrequencyChannelAttention, GatherExcite
from attn_lib.book.environment import import_torchvision
from attn_lib.fca import TOP16, dct_basis, dct_pool
from attn_lib.models import mobilenet_v2, resnet50

torchvision = import_torchvision()


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def effective_gate(module, x):
    """out / x: the multiplicative gate a module applied at every element (x > 0)."""
    return module(x) / x


# ---------------------------------------------------------------- Gather-Excite


def test_ge_theta_minus_global_is_the_sigmoid_of_the_mean_and_has_no_parameters():
    ge = GatherExcite(16)
    x = torch.randn(2, 16, 5, 7)
    torch.testing.assert_close(ge(x), torch.sigmoid(x.mean((2, 3), keepdim=True)) * x)
    assert n_params(ge) == 0
    assert round(n_params(resnet50(attention="ge")) / 1e6, 2) == 25.56
    assert n_params(resnet50(attention="ge")) == n_params(resnet50())


@pytest.mark.parametrize("extent", [2, 4, 8])
def test_ge_theta_minus_gathers_a_2e_minus_1_window_with_stride_e(extent):
    ge = GatherExcite(8, extent=extent)
    x = torch.randn(2, 8, 17, 12)
    pooled = F.avg_pool2d(x, 2 * extent - 1, extent, extent - 1, count_include_pad=False)
    assert pooled.shape[2:] == (math.ceil(17 / extent), math.ceil(12 / extent))
    gate = ge.attention(x)["local"]
    expected = F.interpolate(torch.sigmoid(pooled), size=(17, 12), mode="nearest")
    torch.testing.assert_close(gate, expected)
    torch.testing.assert_close(ge(x), gate * x)


def test_ge_gate_at_a_pixel_sees_only_its_extent():
    ge = GatherExcite(4, extent=2)
    x = torch.randn(1, 4, 16, 16)
    base = ge.attention(x)["local"]
    x2 = x.clone()
    x2[0, :, 15, 15] += 5.0  # the far corner
    moved = (ge.attention(x2)["local"] - base).abs().amax(1)[0] > 0
    assert moved[15, 15] and not moved[:8, :8].any()


def test_ge_theta_gathers_with_log2_e_strided_depthwise_convolutions():
    ge = GatherExcite(32, variant="theta", extent=8)
    convs = [m for m in ge.gather if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.stride, c.groups) for c in convs] == [((3, 3), (2, 2), 32)] * 3
    assert sum(isinstance(m, nn.BatchNorm2d) for m in ge.gather) == 3
    assert sum(isinstance(m, nn.ReLU) for m in ge.gather) == 2  # none after the last
    assert ge.eval()(torch.randn(1, 32, 13, 13)).shape == (1, 32, 13, 13)


def test_ge_theta_global_is_one_depthwise_kernel_over_the_whole_map():
    ge = GatherExcite(32, variant="theta", feature_size=(7, 5))
    conv = ge.gather[0]
    assert conv.kernel_size == (7, 5) and conv.groups == 32 and conv.bias is None
    assert n_params(ge) == 32 * 35 + 2 * 32  # kernel and batch norm
    assert ge.attention(torch.randn(2, 32, 7, 5))["channel"].shape == (2, 32, 1, 1)
    with pytest.raises(ValueError, match=r"built for feature_size \(7, 5\), got a 6×5 map"):
        ge(torch.randn(2, 32, 6, 5))


def test_ge_theta_plus_adds_ses_excitation_after_a_relu():
    ge = GatherExcite(64, variant="theta+", extent=2, reduction=16)
    relu, fc1, _, fc2 = ge.excite
    assert isinstance(relu, nn.ReLU) and fc1.out_channels == 4 and fc2.out_channels == 64
    assert fc1.bias is not None and fc2.bias is not None
    x = torch.randn(2, 64, 6, 6)
    ge.eval()
    expected = torch.sigmoid(ge.excite(ge.gather(x)))
    expected = F.interpolate(expected, size=(6, 6), mode="nearest")
    torch.testing.assert_close(ge(x), expected * x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "theta_minus"}, "variant must be one of"),
        ({"extent": 3}, "extent must be None \\(global\\) or a power of two"),
        ({"extent": 1}, "power of two >= 2"),
        ({"variant": "theta"}, "needs feature_size"),
    ],
)
def test_ge_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GatherExcite(16, **kwargs)


def test_ge_parametric_gather_needs_more_than_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match="batch 1, a 1×1 gathered map.*call .eval"):
        GatherExcite(8, variant="theta", extent=4).train()(torch.randn(1, 8, 3, 3))
    with pytest.raises(ValueError, match="batch of 1 cannot be used"):
        GatherExcite(8, variant="theta", feature_size=3).train()(torch.randn(1, 8, 3, 3))
    GatherExcite(8, variant="theta", extent=4).train()(torch.randn(1, 8, 9, 9))  # 3×3 cells
    GatherExcite(8).train()(torch.randn(1, 8, 1, 1))  # θ⁻: nothing to normalise


# ---------------------------------------------------------------- SRM


def test_srm_gate_of_a_channel_depends_only_on_its_mean_and_std():
    srm = SRM(8).eval()
    with torch.no_grad():
        srm.cfc.normal_()
        srm.bn.running_mean.normal_()
    x = torch.randn(2, 8, 6, 5)
    g = srm.attention(x)["channel"]
    mean, std = x.mean((2, 3)), x.std((2, 3), correction=0)
    z = mean * srm.cfc[:, 0] + torch.sqrt(std**2 + 1e-5) * srm.cfc[:, 1]
    bn = srm.bn
    expected = torch.sigmoid((z - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
                             * bn.weight + bn.bias)
    torch.testing.assert_close(g.flatten(1), expected)
    # Pixel order does not matter; another channel's values do not either.
    x_perm = x.flatten(2)[:, :, torch.randperm(30)].view_as(x)
    torch.testing.assert_close(srm.attention(x_perm)["channel"], g)
    x2 = x.clone()
    x2[:, 3] = 3 * x2[:, 3] + 1
    moved = (srm.attention(x2)["channel"] - g).abs().flatten(1) > 0
    assert moved[:, 3].all() and not moved[:, [0, 1, 2, 4, 5, 6, 7]].any()


def test_srm_has_two_weights_per_channel_no_bias_and_starts_at_zero():
    srm = SRM(64)
    assert srm.cfc.shape == (64, 2) and (srm.cfc == 0).all()
    assert n_params(srm) == 4 * 64  # CFC and batch norm
    x = torch.randn(4, 64, 5, 5)
    torch.testing.assert_close(srm.attention(x)["channel"], torch.full((4, 64, 1, 1), 0.5))
    assert round(n_params(resnet50(attention="srm")) / 1e6, 2) == 25.62


def test_srm_on_1x1_maps_and_constant_channels_is_finite_in_value_and_gradient():
    srm = SRM(8)
    with torch.no_grad():
        srm.cfc.normal_()
    x = torch.randn(4, 8, 1, 1, requires_grad=True)  # σ = √ε: the paper's 1/HW, no NaN
    srm(x).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(srm.cfc.grad).all()
    srm.eval()
    assert torch.isfinite(srm(torch.ones(1, 8, 4, 4))).all()
    assert torch.isfinite(srm(torch.randn(1, 8, 1, 1))).all()


def test_srm_refuses_a_training_batch_of_one():
    with pytest.raises(ValueError, match="batch of 1 cannot be used.*call .eval"):
        SRM(8).train()(torch.randn(1, 8, 4, 4))


# ---------------------------------------------------------------- FcaNet


def _authors_dct_filter(size: int, u: int, v: int) -> torch.Tensor:
    """The authors' build_filter/get_dct_filter (model/layer.py) for one frequency of the
    7×7 grid, scaled to a size × size map as MultiSpectralAttentionLayer does."""
    u, v = u * (size // 7), v * (size // 7)

    def f(pos, freq):
        r = math.cos(math.pi * freq * (pos + 0.5) / size) / math.sqrt(size)
        return r if freq == 0 else r * math.sqrt(2)

    return torch.tensor([[f(i, u) * f(j, v) for j in range(size)] for i in range(size)])


def test_gap_is_the_lowest_dct_frequency_up_to_a_constant():
    x = torch.randn(3, 5, 9, 6, dtype=torch.float64)
    torch.testing.assert_close(dct_pool(x, 0, 0), math.sqrt(9 * 6) * x.mean((2, 3)))
    basis = dct_basis(9, 6, [(0, 0)], torch.float64)
    torch.testing.assert_close(basis, torch.full((1, 9, 6), 1 / math.sqrt(54), dtype=torch.float64))


@pytest.mark.parametrize("size", [7, 14, 28, 56])
def test_dct_filters_are_the_authors_at_resnet50s_map_sizes(size):
    basis = dct_basis(size, size, TOP16, torch.float64)
    for g, (u, v) in enumerate(TOP16):
        torch.testing.assert_close(basis[g], _authors_dct_filter(size, u, v).double())


def test_top16_is_the_authors_list():
    xs = [0, 0, 6, 0, 0, 1, 1, 4, 5, 1, 3, 0, 0, 0, 3, 2]  # all_top_indices_x[:16]
    ys = [0, 1, 0, 5, 2, 0, 2, 0, 0, 6, 0, 4, 6, 3, 5, 2]  # all_top_indices_y[:16]
    assert list(TOP16) == list(zip(xs, ys))


def test_fca_squeezes_each_group_of_channels_at_its_own_frequency():
    fca = FrequencyChannelAttention(32).double()
    x = torch.randn(2, 32, 14, 14, dtype=torch.float64)
    z = fca.squeeze(x).flatten(1)
    for c in range(32):
        u, v = TOP16[c // 2]  # 16 groups of 2 channels
        torch.testing.assert_close(z[:, c], dct_pool(x[:, c:c + 1], u, v)[:, 0])
    # Group 0 is the lowest frequency: SE's squeeze, times √(HW).
    torch.testing.assert_close(z[:, :2], 14 * x[:, :2].mean((2, 3)))


def test_fca_excitation_is_ses_without_biases():
    fca = FrequencyChannelAttention(256)
    assert fca.fc1.bias is None and fca.fc2.bias is None and fca.fc1.out_channels == 16
    assert n_params(fca) == 2 * 256 * 16
    assert round(n_params(resnet50(attention="fca")) / 1e6, 2) == 28.07
    x = torch.randn(2, 256, 7, 7)
    s = torch.sigmoid(fca.fc2(torch.relu(fca.fc1(fca.squeeze(x)))))
    torch.testing.assert_close(fca(x), s * x)


@pytest.mark.parametrize("channels, groups", [(64, 16), (8, 8), (24, 8), (1, 1), (48, 16)])
def test_fca_uses_the_best_gcd_frequencies_where_16_does_not_divide_c(channels, groups):
    fca = FrequencyChannelAttention(channels)
    assert fca.num_groups == groups
    assert fca.freq_u.tolist() == [u for u, _ in TOP16[:groups]]


def test_fca_on_a_1x1_map_scales_each_group_by_its_cosines():
    fca = FrequencyChannelAttention(16).double()
    x = torch.randn(2, 16, 1, 1, dtype=torch.float64)
    scale = torch.tensor([math.cos(math.pi * u / 14) * math.cos(math.pi * v / 14)
                          * (math.sqrt(2) if u else 1) * (math.sqrt(2) if v else 1)
                          for u, v in TOP16], dtype=torch.float64)
    torch.testing.assert_close(fca.squeeze(x).flatten(1), x.flatten(1) * scale)


def test_fca_bad_frequencies():
    with pytest.raises(ValueError, match="frequencies must be an int from 1 to 16, got 32"):
        FrequencyChannelAttention(64, frequencies=32)


def test_fca_state_dict_has_only_the_excitation():
    assert set(FrequencyChannelAttention(64).state_dict()) == {"fc1.weight", "fc2.weight"}


# ---------------------------------------------------------------- Coordinate Attention


def test_coord_gate_is_a_row_term_times_a_column_term():
    ca = CoordinateAttention(16).eval()
    x = torch.randn(2, 16, 6, 5).abs() + 0.1
    gate = effective_gate(ca, x)
    # Rank one per channel: G[h, w] · G[0, 0] = G[h, 0] · G[0, w].
    torch.testing.assert_close(gate * gate[:, :, :1, :1], gate[:, :, :, :1] * gate[:, :, :1, :])
    g = ca.attention(x)
    torch.testing.assert_close(gate, g["height"] * g["width"], atol=1e-6, rtol=1e-5)


def test_coord_row_gate_depends_only_on_that_rows_means():
    ca = CoordinateAttention(8).eval()
    x = torch.randn(1, 8, 6, 6)
    base = ca.attention(x)

    def moved(x2, key):
        return ((ca.attention(x2)[key] - base[key]).abs().amax(1)[0] > 1e-6).flatten()

    zero_mean = torch.randn(8, 6)
    x2 = x.clone()
    x2[0, :, 2, :] += zero_mean - zero_mean.mean(1, keepdim=True)  # row means kept
    assert not moved(x2, "height").any() and moved(x2, "width").any()
    x3 = x.clone()
    x3[0, :, 2, :] += 1.0  # row 2's means move
    assert moved(x3, "height").tolist() == [False, False, True, False, False, False]


@pytest.mark.parametrize("channels, hidden", [(16, 8), (256, 8), (512, 16), (960, 30)])
def test_coord_hidden_width_is_max_of_8_and_c_over_32(channels, hidden):
    ca = CoordinateAttention(channels)
    assert ca.conv1.out_channels == hidden and isinstance(ca.act, nn.Hardswish)
    assert all(c.bias is not None for c in (ca.conv1, ca.conv_h, ca.conv_w))


def test_coord_trains_on_a_batch_of_one_even_on_a_1x1_map():
    ca = CoordinateAttention(8).train()
    for shape in [(1, 8, 1, 1), (1, 8, 4, 3)]:
        assert torch.isfinite(ca(torch.randn(shape))).all()


# ---------------------------------------------------------------- MobileNetV2


def test_mobilenet_v2_has_torchvisions_parameters_layer_for_layer():
    ours, theirs = mobilenet_v2(), torchvision.models.mobilenet_v2()
    assert n_params(ours) == n_params(theirs) == 3_504_872
    assert [t.shape for t in ours.state_dict().values()] == [
        t.shape for t in theirs.state_dict().values()
    ]


def test_mobilenet_v2_with_coordinate_attention_has_the_authors_count():
    model = mobilenet_v2(attention="coord")
    assert n_params(model) == 3_950_648  # the authors' mbv2_ca.py: 3.95 M
    modules = model.attention_modules()
    assert len(modules) == 16  # every block that expands: all but the first
    block = model.features[4]  # after the stem (3 layers) and the first block: the second: 16 -> 96 -> 24 channels, stride 2
    kinds = [type(m).__name__ for m in block.residual]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU6", "Conv2d", "BatchNorm2d", "ReLU6",
                     "CoordinateAttention", "Conv2d", "BatchNorm2d"]
    assert block.residual[3].groups == 96 and block.residual[6].channels == 96


@pytest.mark.parametrize("name", [n for n, m in attn_lib.MECHANISMS.items() if m.placement == "block"])
def test_mobilenet_v2_runs_with_every_block_attention(name):
    model = mobilenet_v2(num_classes=5, attention=name).eval()
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 5)


@pytest.mark.parametrize("name", ["bam", "sk", "transformer"])
def test_mobilenet_v2_refuses_what_has_no_place_in_it(name):
    with pytest.raises(ValueError, match="MobileNetV2: attention must be None or one of"):
        mobilenet_v2(attention=name)
