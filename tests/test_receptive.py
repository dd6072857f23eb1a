"""attn_lib.lab.receptive: the neighbourhood a spatial gate depends on, measured with autograd."""

import pytest
import torch

from attn_lib import BAM, CBAM, SpatialAttention, SqueezeExcitation
from attn_lib.lab.receptive import gate_influence


def support(influence):
    """(rows, cols) offsets from the centre of the pixels with non-zero influence."""
    rows, cols = (influence > 0).nonzero(as_tuple=True)
    centre = influence.shape[-1] // 2
    return set(zip((rows - centre).tolist(), (cols - centre).tolist()))


@pytest.mark.parametrize("kernel_size", [3, 7])
def test_spatial_attention_depends_on_a_k_by_k_window(kernel_size):
    influence = gate_influence(SpatialAttention(8, kernel_size), torch.randn(1, 8, 15, 15))
    half = kernel_size // 2
    assert support(influence) == {(i, j) for i in range(-half, half + 1) for j in range(-half, half + 1)}


def test_cbam_spatial_gate_sees_every_pixel_through_its_channel_gate():
    influence = gate_influence(CBAM(16, reduction=4), torch.randn(1, 16, 15, 15))
    assert bool((influence > 0).all())
    spatial_only = gate_influence(CBAM(16, reduction=4, channel_gate=False), torch.randn(1, 16, 15, 15))
    assert int((spatial_only > 0).sum()) == 49


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_bam_spatial_branch_sees_a_dilated_grid(dilation):
    bam = BAM(16, reduction=4, dilation=dilation)
    influence = gate_influence(bam, torch.randn(8, 16, 21, 21))
    offsets = range(-2 * dilation, 2 * dilation + 1, dilation)
    assert support(influence) == {(i, j) for i in offsets for j in offsets}


def test_pixel_argument_moves_the_window_and_the_mode_is_restored():
    module = SpatialAttention(4, 3).train()
    influence = gate_influence(module, torch.randn(1, 4, 9, 9), pixel=(0, 8))
    assert support(influence) == {(i - 4, j - 4) for i in (0, 1) for j in (7, 8)}
    assert module.training
    bam = BAM(16, reduction=4).train()  # a batch of one is fine: the influence is taken in eval mode
    assert gate_influence(bam, torch.randn(1, 16, 9, 9)).shape == (9, 9)
    assert bam.training


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="outside"):
        gate_influence(SpatialAttention(4), torch.randn(1, 4, 5, 5), pixel=(5, 0))
    with pytest.raises(ValueError, match="no gate 'spatial'"):
        gate_influence(SqueezeExcitation(4, reduction=2), torch.randn(1, 4, 5, 5))
    with pytest.raises(ValueError, match="not a 5×5 map"):
        gate_influence(SqueezeExcitation(4, reduction=2), torch.randn(1, 4, 5, 5), key="channel")
    with pytest.raises(ValueError, match="N, C, H, W"):
        gate_influence(SpatialAttention(4), torch.randn(4, 5, 5))
