"""FcaNet's multi-spectral channel attention (FCA): SE with the squeeze replaced by
2-D DCT coefficients, one frequency per group of channels.

Qin, Zhang, Wu, Li. "FcaNet: Frequency Channel Attention Networks". ICCV 2021.
https://arxiv.org/abs/2012.11879

    B^{u,v}_{i,j} = cos(π u (i + ½) / H) · cos(π v (j + ½) / W)
    Freq^g = Σ_{i,j} x^g_{:,i,j} B^{u_g,v_g}_{i,j}       (channel group g, frequency g)
    s = σ(W2 δ(W1 [Freq^0, ..., Freq^{n−1}])),   out_c = s_c · x_c

The C channels are split into n equal groups (n = 16: the paper's "top-16"), group g is
squeezed with the basis function of its frequency (u_g, v_g), and the excitation is SE's
MLP without biases (W1: C → C/r, W2: C/r → C, r = 16, ReLU δ). At (u, v) = (0, 0) the
basis is constant: Freq^{0,0} = HW · GAP(x) in the paper's notation, so SE's global
average pooling is the lowest frequency of the DCT, up to a constant (Sec. 3.2).

The frequencies were chosen on a 7×7 grid (Sec. 3.4: each of the 49 frequencies tried
alone in ResNet-50, the 16 best kept) and are listed in the order of the authors'
``get_freq_indices('top16')`` (model/layer.py). As in the authors' code, the basis is
normalised like an orthonormal DCT-II (1/√H per axis, times √2 where the frequency is
not 0), so Freq^{0,0} = √(HW) · GAP(x); the sigmoid's input differs from the paper's
unnormalised equation only by that scale, which W1 absorbs.

Map sizes: the authors size each layer's DCT filters to its ImageNet feature map (56,
28, 14 and 7 in ResNet-50's stages) and scale the 7×7 grid's frequencies with it,
u → u · (H // 7), so that every stage sees the same cosines of the pixel index,
cos(π u (i + ½) / 7); a map of another size is first resized to the filters' size by
adaptive average pooling. This module evaluates those same cosines at the input's own
H × W, whatever it is: identical to the authors' filters at 56, 28, 14 and 7 (and any
multiple of 7), and defined on smaller maps. On a 1×1 map the squeeze of group g is
x scaled by cos(π u_g / 14) · cos(π v_g / 14).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._base import AttentionModule, hidden_width

__all__ = ["FrequencyChannelAttention", "TOP16", "dct_basis", "dct_pool"]

# The 16 best single frequencies (u, v) on the 7×7 grid, best first (authors' code:
# all_top_indices_x[:16], all_top_indices_y[:16]; u along H, v along W).
TOP16 = (
    (0, 0), (0, 1), (6, 0), (0, 5), (0, 2), (1, 0), (1, 2), (4, 0),
    (5, 0), (1, 6), (3, 0), (0, 4), (0, 6), (0, 3), (3, 5), (2, 2),
)
GRID = 7  # the frequencies' grid


def _cosines(freqs: Tensor, size: int, dtype: torch.dtype) -> Tensor:
    """cos(π f (i + ½) / 7) · c(f) / √size for i < size: (F,) -> (F, size), in
    ``dtype``; c(0) = 1, c(f) = √2, the orthonormal DCT-II's scale when size = 7 k.
    """
    f = freqs.to(dtype)[:, None]
    i = torch.arange(size, dtype=dtype, device=freqs.device) + 0.5
    scale = torch.where(f == 0, 1.0, math.sqrt(2.0)).to(dtype) / math.sqrt(size)
    return torch.cos(math.pi / GRID * f * i) * scale


def dct_basis(
    height: int, width: int, frequencies=TOP16, dtype: torch.dtype = torch.float32
) -> Tensor:
    """The 2-D DCT basis functions of ``frequencies`` (pairs (u, v) on the 7×7 grid) on
    a height × width map, normalised as in the authors' code: -> (F, height, width).
    """
    u, v = torch.tensor(frequencies).T
    f64 = torch.float64
    basis = _cosines(u, height, f64)[:, :, None] * _cosines(v, width, f64)[:, None]
    return basis.to(dtype)


def dct_pool(x: Tensor, u: int = 0, v: int = 0) -> Tensor:
    """Every channel's DCT coefficient at frequency (u, v): x (N, C, H, W) -> (N, C).

    At (0, 0) the basis is the constant 1/√(HW): ``dct_pool(x) == √(HW) ·
    x.mean((2, 3))``, global average pooling up to a constant.
    """
    basis = dct_basis(x.shape[2], x.shape[3], [(u, v)], x.dtype).to(x.device)
    return (x * basis).sum((2, 3))


class FrequencyChannelAttention(AttentionModule):
    """Multi-spectral channel attention: SE whose squeeze is a DCT coefficient, one
    frequency per group of channels.

    Args:
        channels: C, the number of input (and output) channels.
        reduction: r, the bottleneck ratio; the hidden width is ``max(C // r, 1)``.
            Paper: 16.
        frequencies: n, how many of the best frequencies (:data:`TOP16`) to use, one
            per group of C / n channels. Paper: 16. Where n does not divide C (the
            paper's networks never have such C) the groups are the gcd(C, n) best
            frequencies, so that every group has the same size.

    Shapes:
        forward: x (N, C, H, W) -> (N, C, H, W)
        attention: {"channel": (N, C, 1, 1)} with values in (0, 1)
    """

    def __init__(self, channels: int, reduction: int = 16, frequencies: int = 16):
        super().__init__(channels)
        if isinstance(frequencies, bool) or frequencies not in range(1, 17):
            raise ValueError(
                "FrequencyChannelAttention: frequencies must be an int from 1 to 16, "
                f"got {frequencies!r}"
            )
        self.reduction = reduction
        self.num_groups = math.gcd(channels, frequencies)
        u, v = torch.tensor(TOP16[: self.num_groups]).T
        # Fixed, not learned (the paper's choice: learned bases did worse), and cheap to
        # rebuild: not saved with the weights. Integers, so that .half() leaves them.
        self.register_buffer("freq_u", u, persistent=False)
        self.register_buffer("freq_v", v, persistent=False)
        hidden = hidden_width(channels, reduction)
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1, bias=False)  # W1
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1, bias=False)  # W2

    def basis(self, height: int, width: int, dtype: torch.dtype) -> Tensor:
        """Each group's basis function on a height × width map: (g, height · width)."""
        return _basis(self.freq_u, self.freq_v, height, width, dtype)

    def squeeze(self, x: Tensor) -> Tensor:
        """The multi-spectral descriptor: x (N, C, H, W) -> (N, C, 1, 1)."""
        return _spectral_squeeze(x, self.freq_u, self.freq_v, self.num_groups)

    def gate(self, x: Tensor) -> Tensor:
        """The channel gate s, with gradients: x (N, C, H, W) -> (N, C, 1, 1)."""
        return self.fc2(self.relu(self.fc1(self.squeeze(x)))).sigmoid()

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        s = self.gate(x)
        # Gate first: see SqueezeExcitation.forward_with_attention.
        return s * x, {"channel": s}


# Bases by (frequencies, H, W, dtype, device): ~20 small operations, 60 µs, a tenth of
# SE's time at 28×28, saved on every call after the first at a size.
_BASES: dict[tuple, Tensor] = {}


def _basis(freq_u: Tensor, freq_v: Tensor, height: int, width: int,
           dtype: torch.dtype) -> Tensor:
    """Each group's basis function on a height × width map: (g, height · width)."""
    # Not cached while compiling or exporting (the tensors are the tracer's), nor in
    # inference mode (autograd could not save such a tensor later).
    cache = not (
        torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or torch.is_inference_mode_enabled()
    )
    if cache:
        key = (tuple(freq_u.tolist()), tuple(freq_v.tolist()), height, width, dtype,
               freq_u.device)
        if key in _BASES:
            return _BASES[key]
    # float32 at least: cosines in bfloat16 would be off by a percent.
    exact = torch.promote_types(dtype, torch.float32)
    rows = _cosines(freq_u, height, exact)
    cols = _cosines(freq_v, width, exact)
    basis = (rows[:, :, None] * cols[:, None]).flatten(1).to(dtype)
    if cache:
        _BASES[key] = basis
    return basis


def _spectral_squeeze(x: Tensor, freq_u: Tensor, freq_v: Tensor, groups: int) -> Tensor:
    """Group g of x's channels pooled with basis g: x (N, C, H, W) -> (N, C, 1, 1)."""
    n, c, h, w = x.shape
    basis = _basis(freq_u, freq_v, h, w, x.dtype)
    x_groups = x.reshape(n, groups, c // groups, h * w)
    # Each reads x once, as x.mean does (x * basis would first write a copy of
    # x). Measured with attn_lib.bench: without gradients (1, HW) @ (HW, C/g), x's
    # channels as columns of a transposed view, is 20 % faster; with gradients
    # (C/g, HW) @ (HW, 1) is, its backward writing grad_x without a transposed copy.
    if torch.is_grad_enabled() and x.requires_grad:
        z = x_groups @ basis.view(groups, h * w, 1)  # (N, g, C/g, 1)
    else:
        z = basis.view(groups, 1, h * w) @ x_groups.transpose(2, 3)  # (N, g, 1, C/g)
    return z.view(n, c, 1, 1)


# torch.fx (the book's diagrams) records the squeeze as one operation: its Python on
# shapes cannot be traced symbolically.
torch.fx.wrap("_spectral_squeeze")
