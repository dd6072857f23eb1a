"""Conformance: attn_lib's modules against independent implementations of the same papers.

Each test builds a reference module (timm or segmentation_models_pytorch) and attn_lib's
module with matching hyper-parameters, copies every weight and batch-norm buffer from the
reference into attn_lib's module through an explicit name mapping, and checks that both give
the same output, the same input gradient and the same parameter gradients for the same float64
input, in eval mode and in train mode (where the batch-norm running statistics after the
forward must agree too).

Why: two implementations written apart that agree number for number once they share weights
are strong evidence that both compute the paper's equations; a disagreement points at a bug or
at a deliberate variant on one side. The mapping must cover every parameter and buffer of both
modules, so a parameter added on either side fails here instead of being silently left at its
initial value. Where the references deliberately depart from the papers (timm's channel-width
divisor for SE, its minimum ECA kernel), the last tests document and check the difference.

The mappings were written against the sources of timm 1.0.31 and segmentation_models_pytorch
0.6.0; ``test_reference_versions`` fails on another version, as a prompt to re-read them.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.testing import assert_close

from attn_lib.book.environment import import_torchvision
from attn_lib.cbam import CBAM
from attn_lib.coord import CoordinateAttention
from attn_lib.eca import ECA, eca_kernel_size
from attn_lib.ge import GatherExcite
from attn_lib.scse import SCSE
from attn_lib.se import SqueezeExcitation
from attn_lib.sk import SelectiveKernel

# torchvision must be imported through this helper in the book's CPU-only environment, and
# timm and smp import torchvision, so this comes before them.
import_torchvision()

# Pinned in requirements.txt as test requirements: a missing one is an error, not a skip.
import segmentation_models_pytorch as smp  # noqa: E402
import timm  # noqa: E402

from segmentation_models_pytorch.base.modules import SCSEModule  # noqa: E402
from timm.layers.cbam import CbamModule  # noqa: E402
from timm.layers.coord_attn import CoordAttn  # noqa: E402
from timm.layers.eca import EcaModule  # noqa: E402
from timm.layers.gather_excite import GatherExcite as TimmGatherExcite  # noqa: E402
from timm.layers.selective_kernel import SelectiveKernel as TimmSelectiveKernel  # noqa: E402
from timm.layers.squeeze_excite import SEModule  # noqa: E402

PINNED = {"timm": "1.0.31", "segmentation_models_pytorch": "0.6.0"}

SHAPES = [(4, 64, 9, 7), (2, 128, 5, 5)]  # C = 64 and 128: both divisible by r = 16 and G = 32
# The two sides round differently ((s + q)·x against s·x + q·x, convolutions run by different
# kernels): the largest float64 difference measured was 2e-15. A wrong weight, order or
# formula moves the output by orders of magnitude more than this tolerance.
TOL = {"rtol": 1e-12, "atol": 1e-13}

# CBAM's spatial conv sees two maps. Entry i is the index, in timm's input, of the map that is
# input channel i of attn_lib's conv. Both concatenate [mean; max] as the paper's equation does
# (timm: torch.cat([x.mean(dim=1, ...), x.amax(dim=1, ...)], dim=1)), so it is the identity. The
# authors' code (Jongchan/attention-module, ChannelPool) concatenates [max; mean]: loading its
# weights would need [1, 0] here.
CBAM_SPATIAL_INPUTS = [0, 1]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One intra-op thread while this file runs, restored after.

    The tensors are tiny, so threads buy nothing; on a busy machine (or under pytest -n) the
    thread pool's contention made this file 20-30× slower (50 s instead of 2 s).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_reference_versions():
    """The references are the versions whose sources the mappings below were written against."""
    assert timm.__version__ == PINNED["timm"]
    assert smp.__version__ == PINNED["segmentation_models_pytorch"]


def test_installing_the_references_left_the_pinned_cpu_torch():
    """timm and smp depend on torch and torchvision; an unpinned resolver would have replaced the
    pinned CPU build of torch with a multi-GB CUDA build. requirements.txt pins all three."""
    assert torch.__version__.split("+")[0] == "2.13.0"
    assert not torch.version.cuda, f"a CUDA build of torch was installed: {torch.__version__}"
    from importlib.metadata import version

    assert version("torchvision") == "0.28.0"


# --- building the pairs --------------------------------------------------------------------------
# Each builder returns (reference, attn_lib module, mapping, transforms). The mapping takes every
# parameter/buffer name of the reference to the name of the attn_lib tensor it is copied into;
# transforms[ref_name] rearranges a reference tensor (and its gradient) before the comparison.


def _bn(ref: str, ours: str) -> dict[str, str]:
    """The five state entries of a batch norm, ``ref.*`` -> ``ours.*``."""
    names = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
    return {f"{ref}.{n}": f"{ours}.{n}" for n in names}


def _se(c: int):
    # timm's hidden width is make_divisible(C / 16, rd_divisor, round_limit=0); with divisor 1
    # that is round(C / 16) = C // 16 for the C used here (the default divisor, 8, is not: see
    # test_timm_se_divisor_floors_hidden_width_at_8).
    ref = SEModule(c, rd_ratio=1 / 16, rd_divisor=1)
    ours = SqueezeExcitation(c, reduction=16)
    assert ref.fc1.out_channels == ours.fc1.out_channels == c // 16
    mapping = {f"fc{i}.{p}": f"fc{i}.{p}" for i in (1, 2) for p in ("weight", "bias")}
    return ref, ours, mapping, {}


def _eca(c: int):
    # Given channels, timm ignores its kernel_size argument and uses max(ψ(C), 3); ψ(C) >= 3 for
    # the C used here, so both take ψ(C) (3 at C = 64, 5 at C = 128).
    ref = EcaModule(c)
    ours = ECA(c)
    assert eca_kernel_size(c) >= 3
    assert ref.conv.kernel_size == ours.conv.kernel_size == (eca_kernel_size(c),)
    return ref, ours, {"conv.weight": "conv.weight"}, {}


def _cbam(c: int):
    # attn_lib's MLP has biases, as the authors' code (nn.Linear) does; the paper's Eq. 2
    # writes none, and timm's MLP has none unless asked (mlp_bias=True).
    ref = CbamModule(c, rd_ratio=1 / 16, mlp_bias=True)
    # The CBAM paper's spatial gate is M_s = σ(f^{7×7}([mean; max])), with no batch norm; timm
    # builds its conv as ConvNormAct(2, 1, 7, apply_act=False), which adds a BatchNorm2d(1)
    # (as the authors' code does). Removing it leaves the paper's gate.
    ref.spatial.conv.bn = nn.Identity()
    ours = CBAM(c)
    assert ref.channel.fc1.out_channels == ours.channel_attention.fc1.out_channels == c // 16
    assert ref.spatial.conv.conv.padding == ours.spatial_attention.conv.padding == (3, 3)
    mapping = {
        f"channel.fc{i}.{p}": f"channel_attention.fc{i}.{p}"
        for i in (1, 2)
        for p in ("weight", "bias")
    }
    mapping["spatial.conv.conv.weight"] = "spatial_attention.conv.weight"
    transforms = {"spatial.conv.conv.weight": lambda w: w[:, CBAM_SPATIAL_INPUTS]}
    return ref, ours, mapping, transforms


def _sk(c: int):
    # kernel_size=[3, 5] with keep_3x3=True makes timm's second branch a 3×3 conv of dilation
    # (5 - 1) // 2 = 2, the paper's "3×3 dilated 2" (it is timm's default, written out here).
    # split_input=False feeds the whole input to every branch, as in the paper. timm's attention
    # width is rd_channels or make_divisible(C / 16, 8): at C = 64 that is 8, not the paper's
    # d = max(C / r, L) = 32, so d is passed explicitly.
    d = max(c // 16, 32)
    ref = TimmSelectiveKernel(
        c, kernel_size=[3, 5], keep_3x3=True, split_input=False, groups=32, rd_channels=d
    )
    ours = SelectiveKernel(c, groups=32)
    assert [(p.conv.kernel_size, p.conv.dilation) for p in ref.paths] == [
        ((3, 3), (1, 1)), ((3, 3), (2, 2))
    ]
    assert ref.attn.fc_reduce.out_channels == ours.squeeze[0].out_channels == d
    mapping = {
        "attn.fc_reduce.weight": "squeeze.0.weight",
        "attn.fc_select.weight": "select.weight",
    }
    mapping.update(_bn("attn.bn", "squeeze.1"))
    for i in range(2):
        mapping[f"paths.{i}.conv.weight"] = f"branches.{i}.0.weight"
        mapping.update(_bn(f"paths.{i}.bn", f"branches.{i}.1"))
    return ref, ours, mapping, {}


def _scse(c: int):
    # smp's SCSEModule(in_channels, reduction=16) returns x * cSE(x) + x * sSE(x): "add".
    ref = SCSEModule(c)
    ours = SCSE(c, reduction=16, aggregation="add")
    mapping = {
        **{f"cSE.1.{p}": f"channel_gate.fc1.{p}" for p in ("weight", "bias")},
        **{f"cSE.3.{p}": f"channel_gate.fc2.{p}" for p in ("weight", "bias")},
        **{f"sSE.0.{p}": f"spatial_gate.squeeze.{p}" for p in ("weight", "bias")},
    }
    return ref, ours, mapping, {}


def _coord(c: int):
    # timm's CoordAttn defaults differ from the paper (see test_timm_coord_attn_defaults):
    # configured like the authors' coordatt.py, hidden width max(8, C // 32) and biases.
    d = max(8, c // 32)
    ref = CoordAttn(c, rd_channels=d, bias=True)
    ours = CoordinateAttention(c)
    assert ref.conv1.out_channels == ours.conv1.out_channels == d
    mapping = {
        f"{conv}.{p}": f"{conv}.{p}"
        for conv in ("conv1", "conv_h", "conv_w")
        for p in ("weight", "bias")
    }
    mapping.update(_bn("bn1", "bn1"))
    return ref, ours, mapping, {}


def _ge_theta_minus(c: int):
    # GE-θ⁻ with extent 4: both average over 7×7 windows, stride 4, border windows
    # averaging the pixels they cover, then nearest-neighbour interpolation and sigmoid.
    ref = TimmGatherExcite(c, extent=4, use_mlp=False)
    return ref, GatherExcite(c, extent=4), {}, {}


PAIRS = {
    "se": _se, "eca": _eca, "cbam": _cbam, "sk": _sk, "scse": _scse, "coord": _coord,
    "ge-theta-minus": _ge_theta_minus,
}


# --- the comparison ------------------------------------------------------------------------------


def _tensors(module: nn.Module) -> dict[str, Tensor]:
    """Every parameter and buffer of ``module`` by qualified name."""
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def _check_mapping(ref: nn.Module, ours: nn.Module, mapping: dict[str, str]) -> None:
    """The mapping is a bijection between all tensors of ``ref`` and all tensors of ``ours``."""
    ref_names, our_names = set(_tensors(ref)), set(_tensors(ours))
    assert set(mapping) == ref_names, (
        f"reference tensors not mapped: {sorted(ref_names - set(mapping))}; "
        f"mapped but absent: {sorted(set(mapping) - ref_names)}"
    )
    targets = list(mapping.values())
    assert len(set(targets)) == len(targets), "two reference tensors mapped to one attn_lib tensor"
    assert set(targets) == our_names, (
        f"attn_lib tensors not covered: {sorted(our_names - set(targets))}; "
        f"mapped to but absent: {sorted(set(targets) - our_names)}"
    )


def _as(src: Tensor, like: Tensor) -> Tensor:
    """``src`` in ``like``'s layout: only singleton dimensions may differ (Linear vs 1×1 conv)."""
    squeezed = [d for d in src.shape if d != 1]
    assert squeezed == [d for d in like.shape if d != 1], (tuple(src.shape), tuple(like.shape))
    return src.reshape(like.shape)


def _randomize_norms(module: nn.Module, gen: torch.Generator) -> None:
    """Non-trivial batch-norm state, so that eval mode does not reduce to an identity norm."""
    def rand(t: Tensor) -> Tensor:
        return torch.rand(t.shape, generator=gen, dtype=t.dtype)

    def randn(t: Tensor) -> Tensor:
        return torch.randn(t.shape, generator=gen, dtype=t.dtype)

    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(rand(m.weight) + 0.5)
                m.bias.copy_(0.2 * randn(m.bias))
                m.running_mean.copy_(0.2 * randn(m.running_mean))
                m.running_var.copy_(rand(m.running_var) + 0.5)
                m.num_batches_tracked.fill_(7)


def _copy(ref: nn.Module, ours: nn.Module, mapping: dict[str, str], transforms) -> None:
    src, dst = _tensors(ref), _tensors(ours)
    with torch.no_grad():
        for r, o in mapping.items():
            dst[o].copy_(_as(transforms.get(r, lambda t: t)(src[r]), dst[o]))


def _run(module: nn.Module, x: Tensor, grad_out: Tensor | None):
    """Output, input gradient and parameter gradients (by name) of ``(out * grad_out).sum()``."""
    xi = x.clone().requires_grad_(True)
    out = module(xi)
    if grad_out is None:
        gen = torch.Generator().manual_seed(1)
        grad_out = torch.randn(out.shape, generator=gen, dtype=out.dtype)
    params = dict(module.named_parameters())
    grads = torch.autograd.grad((out * grad_out).sum(), [xi, *params.values()])
    return out.detach(), grad_out, grads[0], dict(zip(params, grads[1:]))


def _conform(pair: str, shape: tuple[int, ...], train: bool):
    """Build a pair, share the weights, run both; compare everything. Returns the two modules."""
    ref, ours, mapping, transforms = PAIRS[pair](shape[1])
    ref, ours = ref.double(), ours.double()
    _check_mapping(ref, ours, mapping)
    gen = torch.Generator().manual_seed(0)
    _randomize_norms(ref, gen)
    _copy(ref, ours, mapping, transforms)
    ref.train(train)
    ours.train(train)

    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    ref_out, grad_out, ref_gx, ref_gp = _run(ref, x, None)
    our_out, _, our_gx, our_gp = _run(ours, x, grad_out)

    assert_close(our_out, ref_out, **TOL)
    assert_close(our_gx, ref_gx, **TOL)
    identity = lambda t: t  # noqa: E731
    for r, o in mapping.items():
        if r in ref_gp:
            expected = _as(transforms.get(r, identity)(ref_gp[r]), our_gp[o])
            assert_close(our_gp[o], expected, **TOL, msg=lambda m: f"grad of {o} vs {r}: {m}")
    # After the forward: in train mode the running statistics have moved, and must have moved
    # alike; in eval mode nothing may have changed. Either way every mapped tensor still agrees.
    src, dst = _tensors(ref), _tensors(ours)
    for r, o in mapping.items():
        expected = _as(transforms.get(r, identity)(src[r]), dst[o])
        assert_close(dst[o], expected, **TOL, msg=lambda m: f"{o} vs {r} after forward: {m}")
    if train and any(isinstance(m, nn.BatchNorm2d) for m in ours.modules()):
        assert all(
            int(b) == 8 for n, b in dst.items() if n.endswith("num_batches_tracked")
        ), "train mode did not update the batch-norm statistics"
    return ref, ours, x


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("pair", list(PAIRS))
def test_conforms_to_reference(pair, shape, train):
    """attn_lib's module, given the reference's weights, computes what the reference computes."""
    _conform(pair, shape, train)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_sk_branch_attention_conforms(shape, train):
    """SK's branch weights a_m (softmax over M) agree with those timm's attention layer returns."""
    ref, ours, x = _conform("sk", shape, train)
    captured = []
    # timm's SelectiveKernelAttn returns the softmaxed (N, M, C, 1, 1) weights: read them there.
    hook = ref.attn.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
    # Each side runs once more: in train mode both normalise with the batch's statistics, in
    # eval mode with their running ones, equal after _conform, so the two runs are in step.
    with torch.no_grad():
        ref(x)
    hook.remove()
    ours_a = ours.attention(x)["branch"]  # (N, M, C)
    assert_close(ours_a, captured[0].flatten(2), **TOL)
    assert_close(ours_a.sum(1), torch.ones_like(ours_a.sum(1)), **TOL)


# --- differences by design, documented and checked ------------------------------------------------


def test_timm_se_divisor_floors_hidden_width_at_8():
    """timm's SE rounds its hidden width to a multiple of 8 (at least 8); attn_lib uses C // r.

    timm's ``SEModule`` computes ``make_divisible(C / 16, rd_divisor=8, round_limit=0.)``, i.e.
    max(8, C / 16 rounded to a multiple of 8), for hardware-friendly channel counts. The SE paper
    uses C / r, and attn_lib follows the paper: at C = 64, r = 16 timm's bottleneck has 8 units
    and attn_lib's 4, so the two differ in capacity and parameter count, and timm's default SE
    weights do not load into attn_lib (or vice versa) where C / 16 is not a multiple of 8. They
    agree where it is (C = 256), and the conformance test above uses ``rd_divisor=1``.
    """
    for c, timm_width in [(64, 8), (32, 8), (200, 16), (256, 16)]:
        assert SEModule(c).fc1.out_channels == timm_width  # default rd_divisor=8
        assert SqueezeExcitation(c, reduction=16).fc1.out_channels == c // 16
    assert SEModule(64).fc1.out_channels != SqueezeExcitation(64).fc1.out_channels


def test_timm_eca_keeps_kernel_at_least_3_where_psi_gives_1():
    """For C < 8 the paper's ψ(C) is 1; timm's ECA uses max(ψ(C), 3), attn_lib uses ψ(C).

    ψ(C) = |(log2 C + 1) / 2|_odd is 1 for C = 1..7. attn_lib follows the paper's formula, so
    there its 1-D convolution has a single weight: each channel's gate depends on its own
    pooled value only, and ECA loses the cross-channel interaction that defines it. timm clamps
    k at 3 (``kernel_size = max(t if t % 2 else t + 1, 3)``), which keeps the interaction but is
    not the paper's rule. The paper only uses C >= 64, where both agree; the difference matters
    for the small toy inputs a reader tries, and for comparing parameter counts there.
    """
    small = [c for c in range(1, 65) if eca_kernel_size(c) == 1]
    assert small == list(range(1, 8))
    for c in small:
        assert EcaModule(c).conv.kernel_size == (3,)
        assert ECA(c).kernel_size == 1 and ECA(c).conv.kernel_size == (1,)
    for c in (8, 64, 128, 256, 2048):
        assert EcaModule(c).conv.kernel_size == ECA(c).conv.kernel_size == (eca_kernel_size(c),)

    # What it changes: at C = 4, perturbing channel 1 moves channel 0's gate in timm's module
    # and leaves it untouched in attn_lib's.
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 4, 5, 5, generator=gen, dtype=torch.float64) + 0.5  # positive: x != 0
    x2 = x.clone()
    x2[:, 1] += 1.0
    ref, ours = EcaModule(4).double().eval(), ECA(4).double().eval()
    with torch.no_grad():
        ref_gate = lambda t: ref(t) / t  # noqa: E731  (out = gate · x with x > 0)
        assert not torch.allclose(ref_gate(x)[:, 0], ref_gate(x2)[:, 0])
    assert_close(ours.attention(x)["channel"][:, 0], ours.attention(x2)["channel"][:, 0])


def test_timm_coord_attn_defaults_differ_from_the_paper():
    """timm's CoordAttn has no biases and a hidden width make_divisible(C / 16 · 2/3, 8); the
    paper and the authors' code use max(8, C // 32) and biases. At C = 512: 24 against 16."""
    for c, timm_width in [(64, 8), (512, 24), (960, 40)]:
        ref = CoordAttn(c)
        assert ref.conv1.out_channels == timm_width and ref.conv1.bias is None
        assert CoordinateAttention(c).conv1.out_channels == max(8, c // 32)
        assert CoordinateAttention(c).conv1.bias is not None


def test_timm_ge_with_parameters_cannot_be_built():
    """timm 1.0.31's GatherExcite(extra_params=True) passes its device/dtype dict as ``*dd``
    (positional) to create_conv2d, which then gets kernel_size twice: GE-θ and GE-θ⁺ raise
    TypeError on construction, so only θ⁻ is compared above. Reading its source, timm's θ⁺
    would also differ from the authors' RN50-GEPP.prototxt, which puts a ReLU after the
    gather's batch norm, before the MLP (attn_lib follows the authors)."""
    for extent in (0, 4):
        with pytest.raises(TypeError, match="multiple values for argument 'kernel_size'"):
            TimmGatherExcite(64, feat_size=(7, 7), extra_params=True, extent=extent)
    ours = GatherExcite(64, variant="theta+", extent=4)
    assert isinstance(ours.excite[0], nn.ReLU)
