"""Which input pixels a spatial gate depends on, measured with autograd rather than derived.

A spatial gate's value at one pixel is a function of some neighbourhood of the input: 7×7 for
CBAM's spatial half, a sparse 17×17 grid for BAM's dilated branch. The gradient of that one
value with respect to the input is non-zero exactly on the pixels it depends on, so it draws
the neighbourhood without any arithmetic on kernel sizes and dilations:

    influence = gate_influence(attn_lib.SpatialAttention(16), torch.randn(4, 16, 15, 15))
    (influence > 0).sum()        # tensor(49): a 7×7 window
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._base import AttentionModule

__all__ = ["gate_influence"]


def gate_influence(
    module: AttentionModule, x: Tensor, pixel: tuple[int, int] | None = None, key: str = "spatial"
) -> Tensor:
    """How strongly each input pixel moves the gate ``module.attention(x)[key]`` at one pixel.

    Args:
        module: an attention module whose ``forward_with_attention`` returns a gate with
            spatial extent under ``key`` (e.g. CBAM's or SpatialAttention's "spatial" (N, 1, H, W),
            BAM's "spatial" logits or "combined" (N, C, H, W)). It runs in eval mode (restored
            afterwards), so a batch norm uses its running statistics and samples do not mix.
        x: input (N, C, H, W). The samples do not interact (eval mode); their influences add
            up, so a pixel that an inactive ReLU happens to cut off for one sample still shows
            through the others.
        pixel: (row, column) of the gate value to explain. Default: the centre (H // 2, W // 2).
        key: which gate of the module's attention dict.

    Returns:
        (H, W) tensor ≥ 0: for each input pixel, the sum over samples n and channels of
        ``|∂ g_n / ∂ x[n, :, h, w]|``, where g_n is sample n's gate at ``pixel`` summed over
        its channels. It is zero wherever the gate does not depend on the input. Inside the
        receptive field it is non-zero unless, in every sample, each path from that pixel passes
        through an inactive ReLU: a few random samples make that vanishingly unlikely.
    """
    if x.dim() != 4:
        raise ValueError(f"gate_influence: expected x of shape (N, C, H, W), got {tuple(x.shape)}")
    height, width = x.shape[-2:]
    row, col = pixel if pixel is not None else (height // 2, width // 2)
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(f"gate_influence: pixel {(row, col)} lies outside the {height}×{width} input")
    x = x.detach().clone().requires_grad_(True)
    was_training = module.training
    module.eval()
    try:
        module.check_input(x)
        with torch.enable_grad():
            gates = module.forward_with_attention(x)[1]
            if key not in gates:
                raise ValueError(f"gate_influence: {type(module).__name__} has no gate {key!r}; it has {list(gates)}")
            gate = gates[key]
            if gate.shape[-2:] != (height, width):
                raise ValueError(f"gate_influence: gate {key!r} has shape {tuple(gate.shape)}, not a "
                                 f"{height}×{width} map")
            (grad,) = torch.autograd.grad(gate[:, :, row, col].sum(), x)
    finally:
        module.train(was_training)
    return grad.abs().sum((0, 1))
