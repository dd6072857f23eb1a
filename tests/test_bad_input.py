"""Bad input gets a clear error naming the module, what it expected and what it got, before
any convolution runs."""

import pytest
import torch

import attn_lib
from conftest import NAMES, build


def _no_convolution_runs(module):
    calls = []
    for m in module.modules():
        if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d)):
            m.register_forward_pre_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "x, error, message",
    [
        (torch.randn(16, 5, 5), ValueError, r"expected a 4-D tensor \(N, C, H, W\), got 3-D"),
        (torch.randn(1, 2, 16, 5, 5), ValueError, r"expected a 4-D tensor \(N, C, H, W\), got 5-D"),
        (torch.randn(2, 8, 5, 5), ValueError, r"expected 16 channels \(dim 1\), got 8"),
        (torch.ones(2, 16, 5, 5, dtype=torch.int64), TypeError, r"expected a floating-point tensor, got dtype torch.int64"),
        ([[1.0]], TypeError, r"expected a torch.Tensor of shape \(N, C, H, W\), got list"),
    ],
    ids=["rank3", "rank5", "channels", "int64", "list"],
)
def test_bad_tensor(name, x, error, message):
    module = build(name, 16)
    calls = _no_convolution_runs(module)
    with pytest.raises(error, match=type(module).__name__ + ": " + message):
        module(x)
    with pytest.raises(error, match=message):
        module.attention(x)
    assert calls == []


@pytest.mark.parametrize("name", ["bam", "sk"])
def test_training_batch_of_one_explains_batch_norm(name):
    module = build(name, 16).train()
    with pytest.raises(ValueError, match="batch of 1 cannot be used.*call .eval"):
        module(torch.randn(1, 16, 4, 4))


@pytest.mark.parametrize("k", [4, 0, -3, 2.0, True])
def test_eca_rejects_even_or_non_positive_kernels(k):
    with pytest.raises(ValueError, match=f"ECA: kernel_size must be a positive odd int, got {k!r}"):
        attn_lib.ECA(64, kernel_size=k)


def test_scse_rejects_unknown_aggregation():
    with pytest.raises(ValueError, match=r"SCSE: aggregation must be one of \('add', 'max', 'mul'\), got 'concat'"):
        attn_lib.SCSE(64, aggregation="concat")


@pytest.mark.parametrize("channels", [0, -4, 3.5, "64", True])
@pytest.mark.parametrize("name", NAMES)
def test_bad_channel_count(name, channels):
    with pytest.raises(ValueError, match="channels must be a positive int"):
        attn_lib.create(name, channels)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: attn_lib.SelectiveKernel(48, groups=32), r"groups G=32 must divide channels \(48\)"),
        (lambda: attn_lib.CBAM(16, kernel_size=4), "kernel_size must be a positive odd int, got 4"),
        (lambda: attn_lib.CBAM(16, channel_gate=False, spatial_gate=False), "at least one"),
        (lambda: attn_lib.SqueezeExcitation(16, reduction=0), "reduction ratio r must be a positive integer"),
        (lambda: attn_lib.BAM(16, dilation=0), "dilation must be a positive int"),
    ],
)
def test_bad_hyper_parameters(call, message):
    with pytest.raises(ValueError, match=message):
        call()
