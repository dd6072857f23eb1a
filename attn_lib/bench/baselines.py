"""Straightforward implementations in the style of the notes the book grew from. NOT the library.

Each holds a copy of the library module's parameters; :func:`check_baseline` asserts that it computes
what the library computes before anything is timed.
"""

from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..bam import BAM
from ..cbam import CBAM, ChannelAttention
from ..coord import CoordinateAttention
from ..eca import ECA
from ..fca import TOP16, FrequencyChannelAttention, dct_basis
from ..gc import GlobalContext
from ..ge import GatherExcite
from ..nonlocal_block import NonLocal
from ..registry import create
from ..scse import SCSE
from ..se import SqueezeExcitation
from ..simam import SimAM
from ..sk import SelectiveKernel
from ..srm import SRM
from ..sse import SpatialSqueezeExcitation
from ..triplet import TripletAttention

# Every registered module but the non-local block, plus CBAM's channel half on its own (it has a
# target of its own) and GC against timm's GlobalContext. The non-local block's cost grows as
# (HW)²: it has a curve of its own over H = W (attn_lib.bench.curve), not a place in this grid.
CASES = ("se", "sse", "scse", "cbam", "cbam-channel", "bam", "sk", "eca", "ge", "srm", "fca", "coord",
         "triplet", "simam", "gc", "gc-timm")

__all__ = ["CASES", "BASELINES", "baseline_module", "check_baseline", "library_module", "timm_available"]

BASELINES = {
    "se": "notes' cSEBlock: nn.AdaptiveAvgPool2d, 1×1 convs with bias and the paper's ReLU, nn.Sigmoid, r = 16",
    "sse": "notes' sSEBlock: 1×1 conv C→1 with bias, nn.Sigmoid",
    "scse": "notes' scSEblock: cSE(x) + sSE(x), two scaled copies summed, r = 16",
    "cbam": "notes' CBAM: ChannelAttentionModule (AdaptiveAvg/MaxPool2d, the MLP called once per descriptor) "
            "then SpatialAttentionModule (torch.max with indices, torch.mean, cat, 7×7 conv as the paper)",
    "cbam-channel": "notes' ChannelAttentionModule: AdaptiveAvgPool2d and AdaptiveMaxPool2d, the MLP called twice",
    "bam": "authors'-code style: F.avg_pool2d + Linear/BatchNorm1d MLP, spatial conv stack, both expand_as(x), "
           "1 + sigmoid(sum), then att * x (paper's sum, r = 16, d = 4)",
    "sk": "notes' SKConv: per-branch loop with unsqueeze + torch.cat, torch.sum, Linear fc per branch, "
          "cat, softmax, (feas * a).sum(1); paper's grouped dilated 3×3 branches, fc with BN and ReLU",
    "eca": "authors' code: nn.AdaptiveAvgPool2d, squeeze/transpose, Conv1d, transpose/unsqueeze, expand_as",
    "ge": "GE-θ⁻ (global) as a module would be written: nn.AdaptiveAvgPool2d, nn.Sigmoid, x * gate.expand_as(x) "
          "(the authors released Caffe prototxts only)",
    "srm": "authors' SRMLayer: view, mean, var + eps, sqrt, cat to (N, C, 2), cfc product and sum, BatchNorm2d, "
           "sigmoid (variance over HW as in the paper, the code's torch.var divides by HW - 1)",
    "fca": "authors' MultiSpectralAttentionLayer: (C, H, W) DCT filter buffer, x * weight and sum, Linear fc without "
           "biases, sigmoid, x * y.expand_as(x)",
    "coord": "authors' CoordAtt (coordatt.py): AdaptiveAvgPool2d((None, 1)) and ((1, None)), permute, cat, conv1, "
             "BatchNorm2d, h_swish, split, permute, conv_h, conv_w, sigmoid, identity * a_w * a_h",
    "triplet": "authors' TripletAttention: permute(...).contiguous() twice, ZPool (cat of max and mean), "
               "BasicConv (7×7 conv, BatchNorm2d), sigmoid, x * scale per branch, permute back, 1/3 * (sum)",
    "simam": "authors' simam_module: x - mean, pow(2), sum / n + λ, divide, + 0.5, nn.Sigmoid, x * gate",
    "gc": "authors' ContextBlock (channel_add): conv_mask, view, softmax, unsqueeze, matmul, "
          "channel_add_conv (conv, LayerNorm, ReLU, conv), out = x + term",
    "gc-timm": "timm's GlobalContext(fuse_add=True, fuse_scale=False, rd_ratio=1/16), LayerNorm2d's eps set to "
               "the library's 1e-5 so that the two compute the same",
}




def _copy(dst: nn.Module, src: nn.Module, weight: Callable[[Tensor], Tensor] = lambda w: w) -> None:
    """Copy a layer's weight (through ``weight``), bias and batch-norm state from ``src``."""
    with torch.no_grad():
        dst.weight.copy_(weight(src.weight).reshape(dst.weight.shape))
        if getattr(src, "bias", None) is not None:
            dst.bias.copy_(src.bias.reshape(dst.bias.shape))
        if isinstance(src, nn.modules.batchnorm._BatchNorm):
            dst.running_mean.copy_(src.running_mean)
            dst.running_var.copy_(src.running_var)


class _BaselineSE(nn.Module):
    """BASELINE (notes' cSEBlock, with the paper's ReLU and biases)."""

    def __init__(self, lib: SqueezeExcitation) -> None:
        super().__init__()
        c, h = lib.fc1.in_channels, lib.fc1.out_channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.squeeze = nn.Conv2d(c, h, kernel_size=1)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(h, c, kernel_size=1)
        self.sigmoid = nn.Sigmoid()
        _copy(self.squeeze, lib.fc1)
        _copy(self.expand, lib.fc2)

    def forward(self, inputs: Tensor) -> Tensor:
        x = self.avgpool(inputs)
        x = self.sigmoid(self.expand(self.relu(self.squeeze(x))))
        return x * inputs


class _BaselineSSE(nn.Module):
    """BASELINE (notes' sSEBlock, with the bias the library's W_sq has)."""

    def __init__(self, lib: SpatialSqueezeExcitation) -> None:
        super().__init__()
        self.conv = nn.Conv2d(lib.squeeze.in_channels, 1, kernel_size=1)
        self.sigmoid = nn.Sigmoid()
        _copy(self.conv, lib.squeeze)

    def forward(self, inputs: Tensor) -> Tensor:
        x = self.sigmoid(self.conv(inputs))
        return x * inputs


class _BaselineSCSE(nn.Module):
    """BASELINE (notes' scSEblock: the two recalibrated copies, summed)."""

    def __init__(self, lib: SCSE) -> None:
        super().__init__()
        self.cSE = _BaselineSE(lib.channel_gate)
        self.sSE = _BaselineSSE(lib.spatial_gate)

    def forward(self, inputs: Tensor) -> Tensor:
        x1 = self.cSE(inputs)
        x2 = self.sSE(inputs)
        return x1 + x2


class _BaselineChannelAttention(nn.Module):
    """BASELINE (notes' ChannelAttentionModule, with the MLP's biases as the library has them)."""

    def __init__(self, lib: ChannelAttention) -> None:
        super().__init__()
        c, h = lib.fc1.in_channels, lib.fc1.out_channels
        self.global_maxpool = nn.AdaptiveMaxPool2d(1)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Conv2d(c, h, kernel_size=1), nn.ReLU(), nn.Conv2d(h, c, kernel_size=1))
        self.sigmoid = nn.Sigmoid()
        _copy(self.fc[0], lib.fc1)
        _copy(self.fc[2], lib.fc2)

    def forward(self, inputs: Tensor) -> Tensor:
        x1 = self.global_maxpool(inputs)
        x2 = self.global_avgpool(inputs)
        x1 = self.fc(x1)
        x2 = self.fc(x2)
        x = self.sigmoid(x1 + x2)
        return x * inputs


class _BaselineSpatialAttention(nn.Module):
    """BASELINE (notes' SpatialAttentionModule with the paper's 7×7 kernel; [max, mean] order)."""

    def __init__(self, lib) -> None:
        super().__init__()
        k = lib.kernel_size
        self.conv = nn.Conv2d(2, 1, kernel_size=k, stride=1, padding=k // 2, bias=False)
        self.sigmoid = nn.Sigmoid()
        _copy(self.conv, lib.conv, weight=lambda w: w[:, [1, 0]])  # the library stacks [mean, max]

    def forward(self, inputs: Tensor) -> Tensor:
        x1, _ = torch.max(inputs, dim=1, keepdim=True)
        x2 = torch.mean(inputs, dim=1, keepdim=True)
        x = torch.cat([x1, x2], dim=1)
        x = self.conv(x)
        x = self.sigmoid(x)
        return x * inputs


class _BaselineCBAM(nn.Module):
    """BASELINE (notes' CBAM: channel module, then spatial module)."""

    def __init__(self, lib: CBAM) -> None:
        super().__init__()
        self.cam = _BaselineChannelAttention(lib.channel_attention)
        self.sam = _BaselineSpatialAttention(lib.spatial_attention)

    def forward(self, inputs: Tensor) -> Tensor:
        x = self.cam(inputs)
        x = self.sam(x)
        return x


class _BaselineBAM(nn.Module):
    """BASELINE (BAM in the style of its authors' code, with the paper's sum of the branches)."""

    def __init__(self, lib: BAM) -> None:
        super().__init__()
        cb, sb = lib.channel_branch, lib.spatial_branch
        c, h = cb[0].in_channels, cb[0].out_channels
        self.gate_c = nn.Sequential(
            nn.Flatten(), nn.Linear(c, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(),
            nn.Linear(h, c), nn.BatchNorm1d(c),
        )
        for i, j in ((1, 0), (2, 1), (4, 3), (5, 4)):
            _copy(self.gate_c[i], cb[j])
        d = lib.dilation
        self.gate_s = nn.Sequential(
            nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
            nn.Conv2d(h, h, 3, padding=d, dilation=d, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
            nn.Conv2d(h, h, 3, padding=d, dilation=d, bias=False), nn.BatchNorm2d(h), nn.ReLU(),
            nn.Conv2d(h, 1, 1), nn.BatchNorm2d(1),
        )
        for i in (0, 1, 3, 4, 6, 7, 9, 10):
            _copy(self.gate_s[i], sb[i])

    def forward(self, in_tensor: Tensor) -> Tensor:
        # The authors' code pools with kernel in_tensor.size(2), which fails on maps that are not
        # square; (H, W) is what it means.
        size = in_tensor.shape[2:]
        avg_pool = F.avg_pool2d(in_tensor, size, stride=size)
        channel_att = self.gate_c(avg_pool).unsqueeze(2).unsqueeze(3).expand_as(in_tensor)
        spatial_att = self.gate_s(in_tensor).expand_as(in_tensor)
        att = 1 + torch.sigmoid(channel_att + spatial_att)
        return att * in_tensor


class _BaselineSK(nn.Module):
    """BASELINE (notes' SKConv, with the paper's grouped dilated branches and BN + ReLU in fc)."""

    def __init__(self, lib: SelectiveKernel) -> None:
        super().__init__()
        first = lib.branches[0][0]
        feature, groups, m = first.in_channels, first.groups, lib.num_branches
        d = lib.squeeze[0].out_channels
        self.M = m
        self.convs = nn.ModuleList([])
        for i in range(m):
            self.convs.append(nn.Sequential(
                nn.Conv2d(feature, feature, 3, padding=1 + i, dilation=1 + i, groups=groups, bias=False),
                nn.BatchNorm2d(feature),
                nn.ReLU(inplace=False)))
            _copy(self.convs[i][0], lib.branches[i][0])
            _copy(self.convs[i][1], lib.branches[i][1])
        self.fc = nn.Sequential(nn.Linear(feature, d, bias=False), nn.BatchNorm1d(d), nn.ReLU(inplace=False))
        _copy(self.fc[0], lib.squeeze[0])
        _copy(self.fc[1], lib.squeeze[1])
        self.fcs = nn.ModuleList([])
        for i in range(m):
            self.fcs.append(nn.Linear(d, feature, bias=False))
            _copy(self.fcs[i], lib.select, weight=lambda w, i=i: w[i * feature:(i + 1) * feature])
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x: Tensor) -> Tensor:
        for i, conv in enumerate(self.convs):
            # The notes call unsqueeze_ (in place) here, on the ReLU's output, which ReLU's backward
            # needs unchanged: their SKConv cannot be trained ("modified by an inplace operation").
            # The out-of-place view costs the same.
            fea = conv(x).unsqueeze(1)  # bs 1 c w h
            if i == 0:
                feas = fea
            else:
                feas = torch.cat([feas, fea], dim=1)  # bs +1 c w h
        fea_u = torch.sum(feas, dim=1)
        fea_s = fea_u.mean(-1).mean(-1)
        fea_z = self.fc(fea_s)
        for i, fc in enumerate(self.fcs):
            vector = fc(fea_z).unsqueeze_(dim=1)
            if i == 0:
                attention_vectors = vector
            else:
                attention_vectors = torch.cat([attention_vectors, vector], dim=1)
        attention_vectors = self.softmax(attention_vectors)
        attention_vectors = attention_vectors.unsqueeze(-1).unsqueeze(-1)
        return (feas * attention_vectors).sum(dim=1)


class _BaselineECA(nn.Module):
    """BASELINE (ECA in the style of its authors' code)."""

    def __init__(self, lib: ECA) -> None:
        super().__init__()
        k = lib.kernel_size
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)
        self.sigmoid = nn.Sigmoid()
        _copy(self.conv, lib.conv)

    def forward(self, x: Tensor) -> Tensor:
        y = self.avg_pool(x)
        y = self.conv(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)
        y = self.sigmoid(y)
        return x * y.expand_as(x)


class _BaselineGE(nn.Module):
    """BASELINE (GE-θ⁻ with a global extent, written with modules)."""

    def __init__(self, lib: GatherExcite) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        gate = self.sigmoid(self.avg_pool(x))
        return x * gate.expand_as(x)


class _BaselineSRM(nn.Module):
    """BASELINE (the authors' SRMLayer, with the paper's 1/HW variance)."""

    def __init__(self, lib: SRM) -> None:
        super().__init__()
        self.cfc = nn.Parameter(lib.cfc.detach().clone())
        self.bn = nn.BatchNorm2d(lib.channels)
        self.activation = nn.Sigmoid()
        _copy(self.bn, lib.bn)

    def _style_pooling(self, x: Tensor, eps: float = 1e-5) -> Tensor:
        n, c, _, _ = x.size()
        channel_mean = x.view(n, c, -1).mean(dim=2, keepdim=True)
        channel_var = x.view(n, c, -1).var(dim=2, keepdim=True, unbiased=False) + eps
        channel_std = channel_var.sqrt()
        return torch.cat((channel_mean, channel_std), dim=2)

    def _style_integration(self, t: Tensor) -> Tensor:
        z = t * self.cfc[None, :, :]  # B x C x 2
        z = torch.sum(z, dim=2)[:, :, None, None]  # B x C x 1 x 1
        return self.activation(self.bn(z))

    def forward(self, x: Tensor) -> Tensor:
        return x * self._style_integration(self._style_pooling(x))


class _BaselineFCA(nn.Module):
    """BASELINE (the authors' MultiSpectralAttentionLayer; filters built for the input's size on
    first use, as the authors size them to the layer's feature map)."""

    def __init__(self, lib: FrequencyChannelAttention) -> None:
        super().__init__()
        c, h = lib.fc1.in_channels, lib.fc1.out_channels
        self.num_groups = lib.num_groups
        self.fc = nn.Sequential(nn.Linear(c, h, bias=False), nn.ReLU(inplace=True), nn.Linear(h, c, bias=False),
                                nn.Sigmoid())
        _copy(self.fc[0], lib.fc1)
        _copy(self.fc[2], lib.fc2)
        self.weight: Tensor | None = None

    def _filter(self, c: int, h: int, w: int, like: Tensor) -> Tensor:
        if self.weight is None or self.weight.shape != (c, h, w) or self.weight.dtype != like.dtype:
            basis = dct_basis(h, w, TOP16[: self.num_groups], like.dtype).to(like.device)
            self.weight = basis.repeat_interleave(c // self.num_groups, dim=0)
        return self.weight

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        y = torch.sum(x * self._filter(c, h, w, x), dim=[2, 3])
        y = self.fc(y).view(n, c, 1, 1)
        return x * y.expand_as(x)


class _HSwish(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x * F.relu6(x + 3) / 6


class _BaselineCoord(nn.Module):
    """BASELINE (the authors' CoordAtt, coordatt.py)."""

    def __init__(self, lib: CoordinateAttention) -> None:
        super().__init__()
        inp, mip = lib.conv1.in_channels, lib.conv1.out_channels
        self.pool_h = nn.AdaptiveAvgPool2d((None, 1))
        self.pool_w = nn.AdaptiveAvgPool2d((1, None))
        self.conv1 = nn.Conv2d(inp, mip, kernel_size=1, stride=1, padding=0)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = _HSwish()
        self.conv_h = nn.Conv2d(mip, inp, kernel_size=1, stride=1, padding=0)
        self.conv_w = nn.Conv2d(mip, inp, kernel_size=1, stride=1, padding=0)
        for name in ("conv1", "bn1", "conv_h", "conv_w"):
            _copy(getattr(self, name), getattr(lib, name))

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        n, c, h, w = x.size()
        x_h = self.pool_h(x)
        x_w = self.pool_w(x).permute(0, 1, 3, 2)
        y = torch.cat([x_h, x_w], dim=2)
        y = self.act(self.bn1(self.conv1(y)))
        x_h, x_w = torch.split(y, [h, w], dim=2)
        x_w = x_w.permute(0, 1, 3, 2)
        a_h = self.conv_h(x_h).sigmoid()
        a_w = self.conv_w(x_w).sigmoid()
        return identity * a_w * a_h


class _BaselineTriplet(nn.Module):
    """BASELINE (the authors' TripletAttention, triplet_attention.py)."""

    class _Gate(nn.Module):
        def __init__(self, lib_gate: nn.Module) -> None:
            super().__init__()
            k = lib_gate.conv.kernel_size[0]
            self.conv = nn.Conv2d(2, 1, k, padding=(k - 1) // 2, bias=False)
            self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01)
            _copy(self.conv, lib_gate.conv)
            _copy(self.bn, lib_gate.bn)

        def forward(self, x: Tensor) -> Tensor:
            x_compress = torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), dim=1)
            scale = torch.sigmoid_(self.bn(self.conv(x_compress)))
            return x * scale

    def __init__(self, lib: TripletAttention) -> None:
        super().__init__()
        self.cw = self._Gate(lib.channel_width)
        self.hc = self._Gate(lib.height_channel)
        self.hw = self._Gate(lib.height_width)

    def forward(self, x: Tensor) -> Tensor:
        x_out1 = self.cw(x.permute(0, 2, 1, 3).contiguous()).permute(0, 2, 1, 3).contiguous()
        x_out2 = self.hc(x.permute(0, 3, 2, 1).contiguous()).permute(0, 3, 2, 1).contiguous()
        x_out = self.hw(x)
        return 1 / 3 * (x_out + x_out1 + x_out2)


class _BaselineSimAM(nn.Module):
    """BASELINE (the authors' simam_module, with n floored at 1 as the library does)."""

    def __init__(self, lib: SimAM) -> None:
        super().__init__()
        self.activaton = nn.Sigmoid()
        self.e_lambda = lib.lambda_

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.size()
        n = max(w * h - 1, 1)
        x_minus_mu_square = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
        y = x_minus_mu_square / (4 * (x_minus_mu_square.sum(dim=[2, 3], keepdim=True) / n + self.e_lambda)) + 0.5
        return x * self.activaton(y)


class _BaselineGC(nn.Module):
    """BASELINE (the authors' ContextBlock with pooling 'att' and fusion 'channel_add')."""

    def __init__(self, lib: GlobalContext) -> None:
        super().__init__()
        c, planes = lib.channels, lib.transform[0].out_channels
        self.conv_mask = nn.Conv2d(c, 1, kernel_size=1)
        self.softmax = nn.Softmax(dim=2)
        self.channel_add_conv = nn.Sequential(
            nn.Conv2d(c, planes, kernel_size=1), nn.LayerNorm([planes, 1, 1]), nn.ReLU(inplace=True),
            nn.Conv2d(planes, c, kernel_size=1))
        _copy(self.conv_mask, lib.mask)
        for i in (0, 1, 3):
            _copy(self.channel_add_conv[i], lib.transform[i])

    def spatial_pool(self, x: Tensor) -> Tensor:
        batch, channel, height, width = x.size()
        input_x = x.view(batch, channel, height * width).unsqueeze(1)
        context_mask = self.conv_mask(x).view(batch, 1, height * width)
        context_mask = self.softmax(context_mask).unsqueeze(-1)
        return torch.matmul(input_x, context_mask).view(batch, channel, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.channel_add_conv(self.spatial_pool(x))


def timm_available() -> bool:
    """Whether timm imports here (it is the optional ``test`` extra)."""
    try:
        from ..book.environment import import_torchvision

        import_torchvision()
        import timm.layers  # noqa: F401
    except ImportError:
        return False
    return True


def _timm_gc(lib: GlobalContext) -> nn.Module:
    """timm's GlobalContext with additive fusion, holding the library module's weights."""
    if not timm_available():
        raise ImportError("the gc-timm case needs timm (pip install 'attn_lib[test]')")
    from timm.layers import GlobalContext as TimmGlobalContext

    hidden = lib.transform[0].out_channels
    module = TimmGlobalContext(lib.channels, fuse_add=True, fuse_scale=False, rd_channels=hidden)
    module.mlp_add.norm.eps = lib.transform[1].eps
    _copy(module.conv_attn, lib.mask)
    _copy(module.mlp_add.fc1, lib.transform[0])
    _copy(module.mlp_add.norm, lib.transform[1])
    _copy(module.mlp_add.fc2, lib.transform[3])
    return module


class _BaselineNonLocal(nn.Module):
    """BASELINE (the embedded-Gaussian block as the authors' code computes it, in PyTorch)."""

    def __init__(self, lib: NonLocal) -> None:
        super().__init__()
        c, inner = lib.channels, lib.inner
        self.inner, self.scale = inner, lib.softmax_scale
        self.theta, self.phi, self.g = (nn.Conv2d(c, inner, 1) for _ in range(3))
        self.pool = copy.deepcopy(lib.pool)
        self.W = nn.Conv2d(inner, c, 1)
        self.bn = nn.BatchNorm2d(c)
        for name in ("theta", "phi", "g"):
            _copy(getattr(self, name), getattr(lib, name))
        _copy(self.W, lib.out)
        _copy(self.bn, lib.bn)

    def forward(self, x: Tensor) -> Tensor:
        batch = x.size(0)
        theta_x = self.theta(x).view(batch, self.inner, -1).permute(0, 2, 1)
        phi_x = self.pool(self.phi(x)).view(batch, self.inner, -1)
        g_x = self.pool(self.g(x)).view(batch, self.inner, -1).permute(0, 2, 1)
        f = torch.matmul(theta_x, phi_x) * self.scale
        f_div_c = F.softmax(f, dim=-1)
        y = torch.matmul(f_div_c, g_x).permute(0, 2, 1).contiguous()
        y = y.view(batch, self.inner, *x.size()[2:])
        return self.bn(self.W(y)) + x


_BASELINE_CLASSES = {
    "se": _BaselineSE, "sse": _BaselineSSE, "scse": _BaselineSCSE, "cbam": _BaselineCBAM,
    "cbam-channel": _BaselineChannelAttention, "bam": _BaselineBAM, "sk": _BaselineSK, "eca": _BaselineECA,
    "ge": _BaselineGE, "srm": _BaselineSRM, "fca": _BaselineFCA, "coord": _BaselineCoord,
    "triplet": _BaselineTriplet, "simam": _BaselineSimAM, "gc": _BaselineGC, "gc-timm": _timm_gc,
    "nonlocal": _BaselineNonLocal,
}


def library_module(case: str, channels: int, seed: int = 0) -> nn.Module:
    """The library's module for ``case`` with the paper's defaults, every parameter and batch-norm
    statistic randomised (so that a baseline wired to the wrong weights cannot pass the check)."""
    torch.manual_seed(seed)
    if case == "cbam-channel":
        module = ChannelAttention(channels)
    else:
        module = create("gc" if case == "gc-timm" else case, channels)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif name.endswith("weight") and t.dim() == 1:  # batch-norm scale
                t.uniform_(0.5, 1.5)
            else:
                t.normal_(0, 1 / math.sqrt(max(t[0].numel(), 1)) if t.dim() > 1 else 0.1)
    return module


def baseline_module(case: str, library: nn.Module) -> nn.Module:
    """The straightforward implementation of ``case``, holding a copy of ``library``'s parameters."""
    return _BASELINE_CLASSES[case](library)


def check_baseline(case: str, library: nn.Module, baseline: nn.Module, x: Tensor) -> None:
    """Assert that ``baseline`` computes what ``library`` computes, or raise AssertionError naming
    the case. In float64 (copies of both modules), so that the tolerance can be tight: the output in
    eval mode, the output and the input gradient in train mode, on a crop of ``x``. In float32,
    the eval output on all of ``x``."""
    with torch.no_grad():
        torch.testing.assert_close(
            baseline.eval()(x), library.eval()(x), rtol=1e-4, atol=1e-5,
            msg=lambda m: f"{case}: baseline differs from the library (float32, eval): {m}")
    lib64, base64 = copy.deepcopy(library).double(), copy.deepcopy(baseline).double()
    # Three samples and at most 12 × 11 pixels (not square on purpose): enough to tell any wiring
    # apart, and cheap at the largest shapes.
    x64 = x.detach()[:3, :, :12, :11].double()
    with torch.no_grad():
        torch.testing.assert_close(
            base64.eval()(x64), lib64.eval()(x64), rtol=1e-9, atol=1e-12,
            msg=lambda m: f"{case}: baseline differs from the library (float64, eval): {m}")
    grad_out = torch.randn_like(x64)  # SK here keeps the shape (stride 1, C' = C)
    results = []
    for module in (lib64.train(), base64.train()):
        xg = x64.clone().requires_grad_()
        y = module(xg)
        results.append((y.detach(), torch.autograd.grad(y, xg, grad_out)[0]))
    for i, what in enumerate(("output (float64, train)", "input gradient (float64, train)")):
        torch.testing.assert_close(results[1][i], results[0][i], rtol=1e-9, atol=1e-12,
                                   msg=lambda m, what=what: f"{case}: baseline's {what} differs: {m}")
