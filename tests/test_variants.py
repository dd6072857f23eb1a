"""Variants where a paper and its authors' released code differ: a keyword whose default is
the paper's value, each side pinned by its defining property. The one exception is the
biases of SE, sSE, scSE and CBAM's MLP: the equations write none, the released code keeps
them, and so does the default (the book's trained models have them)."""

import inspect

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.testing import assert_close

import attn_lib
from attn_lib import BAM, CBAM, ECA, eca_kernel_size


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _randomize_norms(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial batch-norm state, so that eval mode is not an identity norm."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen))
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


# --- BAM: sum (paper) or product (authors' code) of the branch logits ---------------------------


def test_bam_fusion_defaults_to_the_papers_sum():
    assert inspect.signature(BAM).parameters["fusion"].default == "sum"
    assert BAM(32).fusion == "sum"


@pytest.mark.parametrize("fusion", ["sum", "product"])
def test_bam_fusion_defines_the_combined_gate(fusion):
    torch.manual_seed(0)
    bam = BAM(32, fusion=fusion).eval()
    _randomize_norms(bam)
    x = torch.randn(2, 32, 9, 9)
    g = bam.attention(x)
    m_c, m_s = g["channel"], g["spatial"]
    logits = m_c + m_s if fusion == "sum" else m_c * m_s
    assert_close(g["combined"], torch.sigmoid(logits))
    assert_close(bam(x), (1 + g["combined"]) * x)  # F + F ⊗ M either way


def test_bam_product_is_the_released_codes_combination():
    """Jongchan/attention-module, MODELS/bam.py:
    ``att = 1 + F.sigmoid(self.channel_att(in_tensor) * self.spatial_att(in_tensor))``."""
    torch.manual_seed(0)
    bam = BAM(32, fusion="product").eval()
    _randomize_norms(bam)
    x = torch.randn(2, 32, 7, 7)
    channel_att = bam.channel_branch(x.mean((2, 3), keepdim=True)).expand_as(x)
    spatial_att = bam.spatial_branch(x).expand_as(x)
    att = 1 + torch.sigmoid(channel_att * spatial_att)
    assert_close(bam(x), att * x)


def test_bam_fusions_share_weights_and_differ_in_output():
    torch.manual_seed(0)
    summed, product = BAM(32).eval(), BAM(32, fusion="product").eval()
    _randomize_norms(summed)
    product.load_state_dict(summed.state_dict())  # same parameters, same names
    assert _n_params(summed) == _n_params(product)
    x = torch.randn(2, 32, 6, 6)
    assert not torch.allclose(summed(x), product(x))


@pytest.mark.parametrize("fusion", ["max", "Sum", "mul", None])
def test_bam_rejects_an_unknown_fusion(fusion):
    with pytest.raises(ValueError, match="fusion must be one of"):
        BAM(32, fusion=fusion)


def test_bam_fusion_through_the_registry():
    assert attn_lib.create("bam", 32, fusion="product").fusion == "product"


# --- CBAM: the spatial gate without (paper) or with (authors' code, timm) a batch norm ----------


def test_cbam_spatial_norm_defaults_to_the_papers_none():
    assert inspect.signature(CBAM).parameters["spatial_norm"].default is False
    cbam = CBAM(16, reduction=4)
    assert cbam.spatial_attention.norm is None
    assert not any(isinstance(m, nn.BatchNorm2d) for m in cbam.modules())


def test_cbam_without_spatial_norm_is_sigmoid_of_the_convolution():
    torch.manual_seed(0)
    half = CBAM(16, reduction=4, channel_gate=False).spatial_attention
    x = torch.randn(2, 16, 6, 5)
    pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
    assert_close(half.gate(x), torch.sigmoid(half.conv(pooled)))


def test_cbam_spatial_norm_adds_one_batch_norm_of_two_parameters():
    plain, normed = CBAM(16, reduction=4), CBAM(16, reduction=4, spatial_norm=True)
    assert isinstance(normed.spatial_attention.norm, nn.BatchNorm2d)
    assert normed.spatial_attention.norm.num_features == 1
    assert _n_params(normed) == _n_params(plain) + 2


def test_cbam_spatial_norm_in_eval_mode_is_an_affine_map_before_the_sigmoid():
    torch.manual_seed(0)
    half = CBAM(16, reduction=4, channel_gate=False, spatial_norm=True).spatial_attention
    _randomize_norms(half)
    half.eval()
    bn = half.norm
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    b = bn.bias - a * bn.running_mean
    x = torch.randn(3, 16, 6, 5)
    pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
    z = half.conv(pooled)
    assert_close(half.gate(x), torch.sigmoid(a.view(1, 1, 1, 1) * z + b.view(1, 1, 1, 1)))


def test_cbam_spatial_norm_in_train_mode_normalises_with_the_batchs_statistics():
    torch.manual_seed(0)
    half = CBAM(16, reduction=4, channel_gate=False, spatial_norm=True).spatial_attention
    _randomize_norms(half)
    half.train()
    bn = half.norm
    x = torch.randn(3, 16, 6, 5)
    pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
    z = half.conv(pooled).detach()
    z_hat = (z - z.mean()) / torch.sqrt(z.var(unbiased=False) + bn.eps)
    expected = torch.sigmoid(bn.weight.detach() * z_hat + bn.bias.detach())
    assert_close(half.gate(x).detach(), expected)


def test_cbam_spatial_norm_matches_the_authors_gate_once_their_max_mean_order_is_swapped():
    """Jongchan/attention-module, MODELS/cbam.py: ChannelPool stacks [max; mean], then
    ``BasicConv(2, 1, 7, padding=3, relu=False)`` = bias-free conv + BatchNorm2d."""
    torch.manual_seed(0)
    half = CBAM(16, reduction=4, channel_gate=False, spatial_norm=True).spatial_attention
    _randomize_norms(half)
    half.eval()
    authors_weight = half.conv.weight.detach()[:, [1, 0]]  # their input 0 is the max map
    authors_bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01).eval()
    authors_bn.load_state_dict(half.norm.state_dict())
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        pooled = torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), 1)
        authors_gate = torch.sigmoid(authors_bn(F.conv2d(pooled, authors_weight, padding=3)))
    assert_close(half.attention(x)["spatial"], authors_gate)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_cbam_spatial_norm_conforms_to_timm_with_its_batch_norm_kept(train):
    """timm's CbamModule builds the spatial conv as ConvNormAct(2, 1, 7, apply_act=False);
    with the same weights, CBAM(spatial_norm=True) computes what it computes."""
    from attn_lib.book.environment import import_torchvision

    import_torchvision()
    from timm.layers.cbam import CbamModule

    c = 64
    ref = CbamModule(c, rd_ratio=1 / 16, mlp_bias=True).double()
    ours = CBAM(c, spatial_norm=True).double()
    _randomize_norms(ref)
    mapping = {f"channel.fc{i}.{p}": f"channel_attention.fc{i}.{p}"
               for i in (1, 2) for p in ("weight", "bias")}
    mapping["spatial.conv.conv.weight"] = "spatial_attention.conv.weight"
    mapping.update({f"spatial.conv.bn.{n}": f"spatial_attention.norm.{n}"
                    for n in ("weight", "bias", "running_mean", "running_var",
                              "num_batches_tracked")})
    src, dst = ref.state_dict(), ours.state_dict()
    assert set(mapping) == set(src) and set(mapping.values()) == set(dst)
    ours.load_state_dict({mapping[k]: v for k, v in src.items()})
    ref.train(train)
    ours.train(train)
    x = torch.randn(4, c, 9, 7, dtype=torch.float64)
    assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-13)
    if train:
        assert_close(ours.spatial_attention.norm.running_mean, ref.spatial.conv.bn.running_mean)


# --- ECA: the released ResNet-50's kernels against ψ(C) -----------------------------------------


def test_eca_released_resnet50_kernels_differ_from_psi_in_the_first_stage_only():
    """README of BangguWu/ECANet: ``--ksize 3557``; ψ gives 5, 5, 5, 7 for its four stages."""
    widths = (256, 512, 1024, 2048)  # ECA sits on the 4·planes output of each bottleneck
    released = (3, 5, 5, 7)
    psi = tuple(eca_kernel_size(c) for c in widths)
    assert psi == (5, 5, 5, 7)
    assert [p == r for p, r in zip(psi, released)] == [False, True, True, True]
    assert [ECA(c, kernel_size=k).kernel_size for c, k in zip(widths, released)] == list(released)


# ---------------------------------------------------------------- biases

BIASED = {  # name -> the layers whose bias the keyword switches
    "se": ("fc1", "fc2"),
    "sse": ("squeeze",),
    "scse": ("channel_gate.fc1", "channel_gate.fc2", "spatial_gate.squeeze"),
    "cbam": ("channel_attention.fc1", "channel_attention.fc2"),
}


@pytest.mark.parametrize("name", sorted(BIASED))
def test_bias_defaults_to_the_released_codes_and_can_be_removed(name):
    with_bias, without = attn_lib.create(name, 64), attn_lib.create(name, 64, bias=False)
    for layer in BIASED[name]:
        assert with_bias.get_submodule(layer).bias is not None
        assert without.get_submodule(layer).bias is None
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    removed = sum(with_bias.get_submodule(layer).bias.numel() for layer in BIASED[name])
    assert count(with_bias) - count(without) == removed


@pytest.mark.parametrize("name", sorted(BIASED))
def test_without_bias_the_gate_is_the_biased_gate_with_zero_biases(name):
    torch.manual_seed(0)
    with_bias = attn_lib.create(name, 32, reduction=4) if name != "sse" else attn_lib.create(name, 32)
    without = type(with_bias)(32, **({"reduction": 4} if name != "sse" else {}), bias=False)
    state = {k: v for k, v in with_bias.state_dict().items() if not k.endswith("bias")
             or k.endswith("norm.bias")}
    without.load_state_dict(state)
    with torch.no_grad():
        for layer in BIASED[name]:
            with_bias.get_submodule(layer).bias.zero_()
    x = torch.randn(2, 32, 6, 6)
    with_bias.eval(), without.eval()
    assert torch.allclose(with_bias(x), without(x), atol=1e-6)
