"""How fast and how lean each module is, as ratios measured in one run.

    python -m attn_lib.bench            # every module at the standard shapes (~7 CPU-minutes)
    python -m attn_lib.bench --quick    # fewer shapes and repeats (about a minute)

Every figure is a **ratio** between two things timed in the same run, interleaved: in each
round the library module, its *floor* and its *baseline* each run one block of calls, in an
order that rotates from round to round, and the round's ratio is library time / reference time.
A figure is the median over rounds, with its interquartile range and min-max. On a shared,
loaded machine absolute times drift by tens of percent within a minute; blocks that run
seconds apart see nearly the same load, so their ratio holds still while the times do not.

References:

- **floor**: the passes over ``x`` that the module cannot avoid, each timed as the one PyTorch
  operation that makes exactly that pass (see :data:`FLOORS`). For a channel gate (SE, ECA,
  CBAM's channel half) that is ``x.mean((2, 3))`` (read x once to pool) and ``x * g`` with a
  precomputed g (read x, write the output once). A ratio of 1.3 means the module costs 30 % more
  than touching its input and output the fewest times possible.
- **baseline**: a straightforward implementation in the style of the notes the book grew from
  (``nn.AdaptiveAvgPool2d`` modules, CBAM's MLP called once per pooled descriptor, SK's branches
  unsqueezed and concatenated in a Python loop, ...) with the *paper's* hyper-parameters, so
  that the ratio compares implementations, not architectures. Each baseline gets a copy of the
  library module's (randomised) parameters, and its output and input gradient are checked
  equal to the library's before anything is timed (:func:`check_baseline`).

Modes: ``forward`` is inference (``eval()``, no autograd); ``forward+backward`` is training
(``train()``, the output and the gradients of the input and every parameter for a fixed
random output gradient, with :func:`torch.autograd.grad`, so nothing accumulates).

Timing: a hand-rolled interleaved loop, not ``torch.utils.benchmark.Timer``. The Timer's
``blocked_autorange`` measures one statement at a time (every block of A before any of B), so a
change of load between A and B lands in their ratio; and its ``timeit(number)`` re-runs a
warm-up of ``max(number // 100, 2)`` calls each time it is called, which triples the cost of
interleaving calls that take a second (SK at C = 1024, 56 × 56). What the Timer otherwise
provides is done here by hand: a warm-up call per candidate, a fixed thread count, a block size
calibrated so that a block lasts at least ``min_block`` seconds, the garbage collector off while
timing, a device synchronisation on CUDA. pytest-benchmark is a fixture for timing tests in a
test suite; it neither interleaves nor reports ratios.

The clock and the machine: the command line runs PyTorch on one intra-op thread (``--threads``)
and times with :func:`time.thread_time`, the CPU time of the thread doing the work, which does
not advance while the scheduler runs other processes. On a shared machine this is what makes the
numbers repeatable: with two threads, which wait for each other at the end of every operation,
a 40 µs operation took 16 ms whenever one of them was descheduled. With more threads the clock
is :func:`time.perf_counter`. It also sets glibc's malloc to keep freed memory
(:func:`keep_freed_memory`). One consequence of a single thread: PyTorch sends a 1×1
convolution to oneDNN rather than its own kernel when the batch has 16 samples or more (with
more threads, always), and oneDNN costs ~60 µs more per call on the tiny pooled tensors of an
attention MLP; CBAM's channel half, which stacks its two descriptors into one batch of 2N = 16,
crosses that line at N = 8 and the baseline, which calls its MLP twice on N = 8, does not.

Peak memory: on CPU, the largest total of bytes the CPU allocator holds at any moment during
one call beyond what it held before (the output, temporaries and tensors saved for backward;
not the input or the parameters), from the allocation and free events that
``torch.profiler`` records with ``profile_memory=True``. It is exact and deterministic, so it is
measured once. On CUDA: ``torch.cuda.max_memory_allocated`` minus the allocation before the
call. Both count tensors only; oneDNN's scratch space and the Python heap are not included.

The file also holds the ResNet-50 comparison (parameters, multiply-adds and batch-1 latency of
each attention in its paper's network, beside the numbers the papers print) and
:func:`seed_results`, which gathers the book's trained models over seeds.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import ctypes.util
import gc
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from . import cost
from .bam import BAM
from .cbam import CBAM, ChannelAttention
from .eca import ECA
from .registry import create
from .scse import SCSE
from .se import SqueezeExcitation
from .sk import SelectiveKernel
from .sse import SpatialSqueezeExcitation

__all__ = [
    "CASES", "FLOORS", "BASELINES", "PAPER_RESNET50", "check_baseline", "run", "resnet50_table",
    "seed_results", "main",
]

RESULTS_DIR = Path(__file__).parent / "results"
DEFAULT_OUT = RESULTS_DIR / "bench.json"
RUNS_DIR = RESULTS_DIR / "runs"

# Every registered module, plus CBAM's channel half on its own (it has a target of its own).
CASES = ("se", "sse", "scse", "cbam", "cbam-channel", "bam", "sk", "eca")
MODES = ("forward", "forward+backward")
BATCH = 8
CHANNELS = (64, 256, 1024)
SIZES = (56, 28, 14, 7)
QUICK_CHANNELS = (64, 256)
QUICK_SIZES = (28, 7)

FLOORS = {
    "se": "channel gate: x.mean((2,3)) and x * g (g precomputed, N×C×1×1)",
    "eca": "channel gate: x.mean((2,3)) and x * g (g precomputed, N×C×1×1)",
    "cbam-channel": "channel gate: x.mean((2,3)) and x * g (one pooling pass, although CBAM needs mean and max)",
    "sse": "spatial gate: x.mean(1) (the read a C→1 reduction per pixel makes) and x * q (q precomputed, N×1×H×W)",
    "scse": "x.mean((2,3)), x.mean(1) and one scaling pass x * g (x·(s+q) needs one read and one write of x)",
    "cbam": "channel floor then spatial floor: x.mean((2,3)), x * g, x.mean(1), x * q",
    "bam": "x.mean((2,3)), the spatial branch's first 1×1 convolution C→C/r (the one layer that reads x "
           "at full width) and one scaling pass x * g (x·(1+M) in one pass)",
    "sk": "its M branch convolutions (grouped 3×3 conv, batch norm, ReLU): selecting between them is the overhead",
}
BACKWARD_FLOOR = (
    "forward floor, plus for each gate the reduction of (grad_out · x) to the gate's shape "
    "(torch.einsum, no temporary) and one pass grad_out * g for the input gradient; BAM adds its "
    "1×1 convolution's backward; SK is the forward and backward of its branches"
)
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
}


# ---------------------------------------------------------------------------------------------
# Baselines: straightforward implementations in the style of the original notes. NOT the library.
# ---------------------------------------------------------------------------------------------


def _copy(dst: nn.Module, src: nn.Module, weight: Callable[[Tensor], Tensor] = lambda w: w) -> None:
    """Copy a layer's weight (through ``weight``), bias and batch-norm state from ``src``."""
    with torch.no_grad():
        dst.weight.copy_(weight(src.weight).reshape(dst.weight.shape))
        if getattr(src, "bias", None) is not None:
            dst.bias.copy_(src.bias)
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


_BASELINE_CLASSES = {
    "se": _BaselineSE, "sse": _BaselineSSE, "scse": _BaselineSCSE, "cbam": _BaselineCBAM,
    "cbam-channel": _BaselineChannelAttention, "bam": _BaselineBAM, "sk": _BaselineSK, "eca": _BaselineECA,
}


def library_module(case: str, channels: int, seed: int = 0) -> nn.Module:
    """The library's module for ``case`` with the paper's defaults, every parameter and batch-norm
    statistic randomised (so that a baseline wired to the wrong weights cannot pass the check)."""
    torch.manual_seed(seed)
    module = ChannelAttention(channels) if case == "cbam-channel" else create(case, channels)
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


# ---------------------------------------------------------------------------------------------
# Floors: the passes over x (and, backward, over the output gradient) a module cannot avoid.
# ---------------------------------------------------------------------------------------------


def _floor(case: str, module: nn.Module, x: Tensor, grad_out: Tensor, backward: bool) -> Callable[[], object]:
    n, c, h, w = x.shape
    g = torch.rand(n, c, 1, 1, device=x.device)
    q = torch.rand(n, 1, h, w, device=x.device)

    def channel_fwd():
        return x.mean((2, 3)), x * g

    def channel_bwd():
        return torch.einsum("nchw,nchw->nc", grad_out, x), grad_out * g

    def spatial_fwd():
        return x.mean(1), x * q

    def spatial_bwd():
        return torch.einsum("nchw,nchw->nhw", grad_out, x), grad_out * q

    if case in ("se", "eca", "cbam-channel"):
        fwd, bwd = channel_fwd, channel_bwd
    elif case == "sse":
        fwd, bwd = spatial_fwd, spatial_bwd
    elif case == "scse":
        def fwd():
            return x.mean((2, 3)), x.mean(1), x * g

        def bwd():
            return (torch.einsum("nchw,nchw->nc", grad_out, x), torch.einsum("nchw,nchw->nhw", grad_out, x),
                    grad_out * g)
    elif case == "cbam":
        def fwd():
            return channel_fwd(), spatial_fwd()

        def bwd():
            return channel_bwd(), spatial_bwd()
    elif case == "bam":
        w0 = module.spatial_branch[0].weight.detach()
        grad_h = torch.randn(n, w0.shape[0], h, w, device=x.device)

        def fwd():
            return x.mean((2, 3)), F.conv2d(x, w0), x * g

        def bwd():
            conv_grads = torch.ops.aten.convolution_backward(
                grad_h, x, w0, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, True, False])
            return (conv_grads, torch.einsum("nchw,nchw->nc", grad_out, x),
                    torch.einsum("nchw,nchw->nhw", grad_out, x), grad_out * g)
    elif case == "sk":
        branches = list(module.branches)
        if not backward:
            return lambda: [b(x) for b in branches]
        xg = x.detach().clone().requires_grad_()
        inputs = [xg, *(p for b in branches for p in b.parameters())]

        def sk_fwd_bwd():
            feats = [b(xg) for b in branches]
            return torch.autograd.grad(feats, inputs, [grad_out] * len(feats))
        return sk_fwd_bwd
    else:
        raise ValueError(f"no floor defined for {case!r}")
    if not backward:
        return fwd

    def fwd_bwd():
        return fwd(), bwd()
    return fwd_bwd


def _call(module: nn.Module, x: Tensor, grad_out: Tensor, backward: bool) -> Callable[[], object]:
    if not backward:
        return lambda: module(x)
    xg = x.detach().clone().requires_grad_()
    inputs = [xg, *(p for p in module.parameters() if p.requires_grad)]

    def fwd_bwd():
        y = module(xg)
        return torch.autograd.grad(y, inputs, grad_out)
    return fwd_bwd


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


def _clock(device: torch.device) -> Callable[[], float]:
    """The clock timings use: this thread's CPU time when one CPU thread does all the work (it does
    not advance while the scheduler runs other processes), else wall-clock time (synchronised
    with the device on CUDA)."""
    if device.type == "cuda":
        def clock() -> float:
            torch.cuda.synchronize(device)
            return time.perf_counter()
        return clock
    return time.thread_time if torch.get_num_threads() == 1 else time.perf_counter


def clock_name(device: torch.device = torch.device("cpu")) -> str:
    clock = _clock(device)
    return getattr(clock, "__name__", "perf_counter + synchronize")


def interleaved_times(fns: dict[str, Callable[[], object]], rounds: int, min_block: float,
                      device: torch.device = torch.device("cpu"), budget: float | None = None,
                      min_rounds: int = 5) -> dict[str, list[float]]:
    """Seconds per call of each function, one value per round, the functions interleaved.

    Each function is warmed up once and timed once to size its block (enough calls to last
    ``min_block`` seconds); then each round runs one block of each, in an order rotated by one
    every round, so that no function always runs first or right after the same other one.
    With a ``budget`` (seconds), fewer rounds (never fewer than ``min_rounds``) are run when
    ``rounds`` of them would take longer: SK at C = 1024, 56 × 56 takes seconds per call.
    """
    clock = _clock(device)
    names = list(fns)
    number, per_round = {}, 0.0
    for name in names:
        fns[name]()  # warm-up: first-call allocations, kernel selection
        t0 = clock()
        fns[name]()
        once = max(clock() - t0, 1e-7)
        number[name] = max(1, math.ceil(min_block / once))
        per_round += number[name] * once
    if budget is not None:
        rounds = max(min(rounds, min_rounds), min(rounds, int(budget / per_round)))
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                fn, reps = fns[name], number[name]
                t0 = clock()
                for _ in range(reps):
                    fn()
                times[name].append((clock() - t0) / reps)
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def _spread(values: list[float], digits: int = 3) -> dict[str, float]:
    """Median, interquartile range and min-max of ``values``."""
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {k: round(v, digits) for k, v in
            (("median", statistics.median(values)), ("q1", q1), ("q3", q3), ("min", min(values)), ("max", max(values)))}


def _ratios(times: dict[str, list[float]], num: str, den: str) -> dict[str, float]:
    return _spread([a / b for a, b in zip(times[num], times[den])])


def peak_bytes(fn: Callable[[], object], device: torch.device = torch.device("cpu")) -> int:
    """Peak bytes allocated during one call of ``fn`` beyond what was allocated before it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    current = peak = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        current += e.nbytes()
        peak = max(peak, current)
    return peak


def measure(case: str, channels: int, size: int, device: torch.device, rounds: int, min_block: float,
            batch: int = BATCH, budget: float | None = None) -> list[dict]:
    """Both modes of one case at one shape: times, ratios with spreads, peak memory."""
    library = library_module(case, channels).to(device)
    baseline = baseline_module(case, library).to(device)
    torch.manual_seed(1)
    x = torch.randn(batch, channels, size, size, device=device)
    check_baseline(case, library, baseline, x)
    grad_out = torch.randn_like(x)
    rows = []
    for mode in MODES:
        backward = mode == "forward+backward"
        for m in (library, baseline):
            m.train(backward)
        fns = {
            "library": _call(library, x, grad_out, backward),
            "floor": _floor(case, library, x, grad_out, backward),
            "baseline": _call(baseline, x, grad_out, backward),
        }
        with torch.set_grad_enabled(backward):
            times = interleaved_times(fns, rounds, min_block, device, budget)
            memory = {name: peak_bytes(fn, device) for name, fn in fns.items()}
        rows.append({
            "case": case, "mode": mode, "device": device.type, "N": batch, "C": channels, "H": size, "W": size,
            "rounds": len(times["library"]),
            "ms": {name: round(statistics.median(t) * 1e3, 4) for name, t in times.items()},
            "ratio_floor": _ratios(times, "library", "floor"),
            "ratio_baseline": _ratios(times, "library", "baseline"),
            "x_bytes": x.numel() * x.element_size(),
            "peak_bytes": memory,
            "memory_ratio_floor": round(memory["library"] / max(memory["floor"], 1), 3),
            "memory_ratio_baseline": round(memory["library"] / max(memory["baseline"], 1), 3),
        })
    return rows


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

TARGETS = [
    # (case, mode, reference, threshold, statement)
    ("se", "forward", "floor", 1.5, "SE within 1.5x of its floor (forward)"),
    ("eca", "forward", "floor", 1.5, "ECA within 1.5x of its floor (forward)"),
    ("cbam-channel", "forward", "floor", 1.5, "CBAM's channel half within 1.5x of its floor (forward)"),
    *[(case, mode, "baseline", 1.0, f"{case} ({mode}) no slower than its straightforward version")
      for case in CASES for mode in MODES],
]


def evaluate_targets(rows: list[dict]) -> list[dict]:
    """Each target, met or missed at each shape and overall, and by how much."""
    out = []
    for case, mode, ref, threshold, statement in TARGETS:
        if case == "sk" and ref == "baseline":
            statement = f"SK ({mode}) at least as fast as the per-branch loop with concatenation"
        hits = [r for r in rows if r["case"] == case and r["mode"] == mode]
        if not hits:
            continue
        shapes = []
        for r in hits:
            ratio = r[f"ratio_{ref}"]
            shapes.append({
                "device": r["device"], "C": r["C"], "H": r["H"], "ratio": ratio["median"],
                "q1": ratio["q1"], "q3": ratio["q3"], "met": ratio["median"] <= threshold,
                # Whether the threshold lies inside the interquartile range: too close to call.
                "within_spread": ratio["q1"] <= threshold <= ratio["q3"],
            })
        worst = max(shapes, key=lambda s: s["ratio"])
        met = all(s["met"] for s in shapes)
        out.append({
            "target": statement, "case": case, "mode": mode, "reference": ref, "threshold": threshold,
            "met": met,
            # Missed, but only where the threshold lies inside the ratio's interquartile range.
            "missed_within_spread": not met and all(s["met"] or s["within_spread"] for s in shapes),
            "met_at": sum(s["met"] for s in shapes), "shapes": len(shapes),
            # Shapes where the ratio exceeds the threshold in more than three rounds out of four.
            "clearly_missed_at": sum(not s["met"] and not s["within_spread"] for s in shapes),
            "worst": {k: worst[k] for k in ("device", "C", "H", "ratio", "q1", "q3")},
            # > 0: missed by this fraction of the threshold at the worst shape; <= 0: margin.
            "excess": round(worst["ratio"] / threshold - 1, 3),
            "per_shape": shapes,
        })
    return out


# ---------------------------------------------------------------------------------------------
# ResNet-50 with each attention, beside the papers' own numbers
# ---------------------------------------------------------------------------------------------

# Values as printed in each paper's table; a value not remembered with certainty is left out
# (None). The papers' "GFLOPs" are multiply-adds.
PAPER_RESNET50 = {
    "resnet50": {"params_M": None, "gmacs": 3.8,
                 "source": "He et al. 2016, Table 1 (50-layer: 3.8×10^9 FLOPs; parameters not tabulated)"},
    "se": {"params_M": 28.1, "gmacs": 3.87,
           "source": "Hu et al. (SE), Table 2 (SE-ResNet-50: 3.87 GFLOPs vs 3.86 for ResNet-50); "
                     "parameters from its reduction-ratio ablation table (r = 16: 28.1 M)"},
    "cbam": {"params_M": 28.09, "gmacs": None,
             "source": "Woo et al. (CBAM), ImageNet classification table (ResNet50 + CBAM: 28.09 M)"},
    "bam": {"params_M": 25.92, "gmacs": None,
            "source": "Park et al. (BAM), ImageNet classification table (ResNet50 + BAM: 25.92 M)"},
    "eca": {"params_M": 24.37, "gmacs": 3.86,
            "source": "Wang et al. (ECA-Net), abstract: ECA adds 80 parameters and 4.7e-4 GFLOPs to a ResNet-50 "
                      "it counts as 24.37 M parameters and 3.86 GFLOPs (other papers count 25.56 M)"},
    "sknet50": {"params_M": 27.5, "gmacs": 4.47,
                "source": "Li et al. (SKNet), Table 1 (SKNet-50: 27.5 M, 4.47 GFLOPs; ResNeXt-50: 25.0 M, 4.24)"},
}


def resnet50_table(rounds: int = 7, min_block: float = 0.0, device: torch.device = torch.device("cpu")) -> list[dict]:
    """Parameters, multiply-adds (1×3×224×224) and batch-1 CPU latency of each attention's
    ResNet-50, the latency as a ratio to plain ResNet-50 timed interleaved with it."""
    from .models import resnet50, sknet50

    builders = {
        "resnet50": lambda: resnet50(),
        **{a: (lambda a=a: resnet50(attention=a)) for a in ("se", "cbam", "bam", "eca")},
        "sknet50": lambda: sknet50(),
    }
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    models, rows = {}, {}
    for name, build in builders.items():
        model = build().eval()
        rows[name] = {
            "model": name if name in ("resnet50", "sknet50") else f"resnet50+{name}",
            "params_M": round(cost.parameters(model) / 1e6, 3),
            "gmacs": round(cost.multiply_adds(model, x) / 1e9, 3),
        }
        models[name] = model.to(device)
    xd = x.to(device)
    with torch.no_grad():
        times = interleaved_times({n: (lambda m=m: m(xd)) for n, m in models.items()}, rounds, min_block, device)
    out = []
    for name, row in rows.items():
        row["latency_ms"] = round(statistics.median(times[name]) * 1e3, 2)
        row["latency_ratio_resnet50"] = _ratios(times, name, "resnet50")
        row["paper"] = PAPER_RESNET50[name]
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# Trained models over seeds
# ---------------------------------------------------------------------------------------------


def seed_results(seeds: tuple[int, ...] = (0, 1, 2), runs_dir: Path = RUNS_DIR,
                 weights_dir: Path | None = None) -> list[dict]:
    """Mean ± standard deviation over seeds of each book model's validation score.

    Seed 0's records are the shipped ones (``weights/<name>.json``); other seeds' are
    ``results/runs/<name>-seed<k>.json``. Returns one dict per model, in training order:
    ``{"name", "task", "attention", "metric", "scores", "seeds", "mean", "std"}`` (std is the
    sample standard deviation; 0 with a single seed). Seeds whose record is missing are skipped.
    """
    from .train import CLASSIFIER_ATTENTIONS, UNET_ATTENTIONS, WEIGHTS_DIR

    weights_dir = WEIGHTS_DIR if weights_dir is None else Path(weights_dir)
    out = []
    for task, attentions in (("classifier", CLASSIFIER_ATTENTIONS), ("unet", UNET_ATTENTIONS)):
        for attention in attentions:
            name, scores, found, metric = f"{task}-{attention}", [], [], None
            for seed in seeds:
                path = weights_dir / f"{name}.json" if seed == 0 else Path(runs_dir) / f"{name}-seed{seed}.json"
                if not path.exists():
                    continue
                record = json.loads(path.read_text())
                scores.append(record["val_score"])
                found.append(seed)
                metric = record["metric"]
            if not scores:
                continue
            out.append({
                "name": name, "task": task, "attention": attention, "metric": metric,
                "scores": scores, "seeds": found, "mean": round(statistics.mean(scores), 4),
                "std": round(statistics.stdev(scores), 4) if len(scores) > 1 else 0.0,
            })
    return out


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def run(cases=CASES, channels=CHANNELS, sizes=SIZES, rounds: int = 15, min_block: float = 0.02,
        budget: float | None = 20.0, resnet: bool = True, resnet_rounds: int = 7, devices=None,
        progress: bool = True) -> dict:
    """Measure every case at every shape on every device; return the JSON-ready result."""
    if devices is None:
        devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    started = time.perf_counter()
    rows = []
    for device in devices:
        for case in cases:
            for c in channels:
                for s in sizes:
                    t0 = time.perf_counter()
                    rows.extend(measure(case, c, s, device, rounds, min_block, budget=budget))
                    if progress:
                        f, b = rows[-2], rows[-1]
                        print(f"{device.type} {case:12s} C={c:<5d} {s:>2d}x{s:<2d} "
                              f"fwd floor {f['ratio_floor']['median']:.2f} base {f['ratio_baseline']['median']:.2f} | "
                              f"f+b floor {b['ratio_floor']['median']:.2f} base {b['ratio_baseline']['median']:.2f} "
                              f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    result = {
        "meta": {
            "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "threads": torch.get_num_threads(), "clock": clock_name(),
            "devices": [d.type for d in devices], "dtype": "float32",
            "batch": BATCH, "rounds": rounds, "min_block_s": min_block, "budget_s": budget,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "method": ("ratios per round of interleaved blocks (order rotated each round); median over rounds "
                       "with interquartile range and min-max; see attn_lib/bench.py's docstring"),
            "memory": ("peak bytes allocated during one call beyond those held before it (CPU: torch.profiler "
                       "allocation events; CUDA: max_memory_allocated); tensors only"),
        },
        "floors": FLOORS, "backward_floor": BACKWARD_FLOOR, "baselines": BASELINES,
        "modules": rows,
        "targets": evaluate_targets(rows),
    }
    if resnet:
        result["resnet50"] = resnet50_table(rounds=resnet_rounds)
    result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    return result


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the system.

    By default glibc serves large blocks with fresh pages (mmap) and trims the heap on free, so
    whether an operation's output lands on already-mapped memory or pays a page fault per 4 kB
    depends on the heap's state: the same ``x * g`` then takes 300 µs or 1.7 ms from one call to
    the next. With this set, a freed block is reused as PyTorch's CUDA caching allocator (or
    jemalloc) would reuse it, and a timing measures the operation rather than the heap layout.
    Returns whether it took effect (False off glibc).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 2**31 - 1))
    except (OSError, AttributeError):
        return False


def _fmt(r: dict) -> str:
    return f"{r['median']:.2f} [{r['q1']:.2f}-{r['q3']:.2f}]"


def report(result: dict) -> str:
    """The readable tables printed on stdout."""
    meta = result["meta"]
    lines = [f"torch {meta['torch']}, {meta['threads']} thread(s), clock {meta['clock']}, "
             f"malloc: {meta.get('malloc', 'system default')}, N = {meta['batch']}, float32",
             "Time ratios, median [interquartile range] over rounds; memory ratios exact (peak bytes).",
             f"{'module':12s} {'mode':16s} {'C':>5s} {'HxW':>5s}  {'lib/floor':>18s}  {'lib/baseline':>18s}  "
             f"{'mem/floor':>9s} {'mem/base':>8s}  {'lib ms':>8s}"]
    for r in result["modules"]:
        lines.append(f"{r['case']:12s} {r['mode']:16s} {r['C']:5d} {r['H']:>2d}x{r['W']:<2d}  "
                     f"{_fmt(r['ratio_floor']):>18s}  {_fmt(r['ratio_baseline']):>18s}  "
                     f"{r['memory_ratio_floor']:9.2f} {r['memory_ratio_baseline']:8.2f}  {r['ms']['library']:8.3f}")
    lines += ["", "Targets"]
    for t in result["targets"]:
        w = t["worst"]
        verdict = "MET   " if t["met"] else "MISSED (within spread)" if t["missed_within_spread"] else "MISSED"
        how = (f"margin {-t['excess']:.1%} at worst" if t["met"] else f"by {t['excess']:.1%} at worst")
        lines.append(f"  {verdict} {t['target']}: met at {t['met_at']}/{t['shapes']} shapes, clearly missed "
                     f"(q1 above) at {t['clearly_missed_at']}; worst C={w['C']} {w['H']}x{w['H']} "
                     f"ratio {w['ratio']:.2f} [{w['q1']:.2f}-{w['q3']:.2f}], {how}")
        missed = [f"C={s['C']} {s['H']}x{s['H']} {s['ratio']:.2f}{'' if s['within_spread'] else '*'}"
                  for s in t["per_shape"] if not s["met"]]
        if missed:
            lines.append(f"         missed at (* = q1 above the threshold): {', '.join(missed)}")
    if "resnet50" in result:
        lines += ["", f"{'model':16s} {'params M':>9s} {'GMACs':>7s} {'latency ms':>10s} {'vs ResNet-50':>18s}  "
                      f"{'paper M':>7s} {'paper G':>7s}"]
        for r in result["resnet50"]:
            p = r["paper"]
            lines.append(f"{r['model']:16s} {r['params_M']:9.2f} {r['gmacs']:7.2f} {r['latency_ms']:10.1f} "
                         f"{_fmt(r['latency_ratio_resnet50']):>18s}  {p['params_M'] or '-':>7} {p['gmacs'] or '-':>7}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attn_lib.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help=f"C in {QUICK_CHANNELS}, H = W in {QUICK_SIZES}, fewer rounds: about a minute")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default: {DEFAULT_OUT})")
    p.add_argument("--cases", nargs="+", choices=CASES, default=None, help="modules to measure (default: all)")
    p.add_argument("--channels", nargs="+", type=int, default=None, help="override the channel counts")
    p.add_argument("--sizes", nargs="+", type=int, default=None, help="override H = W")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds per comparison")
    p.add_argument("--min-block", type=float, default=None, help="seconds each timed block lasts at least")
    p.add_argument("--no-resnet", action="store_true", help="skip the ResNet-50 table")
    p.add_argument("--threads", type=int, default=1,
                   help="intra-op threads (default 1: on a shared machine, threads that wait for each other at "
                        "every operation turn a 40 µs operation into milliseconds whenever one is descheduled)")
    p.add_argument("--system-malloc", action="store_true",
                   help="leave glibc's malloc as it is (default: keep freed memory, see keep_freed_memory)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quick = args.quick
    kwargs = dict(
        cases=tuple(args.cases or CASES),
        channels=tuple(args.channels or (QUICK_CHANNELS if quick else CHANNELS)),
        sizes=tuple(args.sizes or (QUICK_SIZES if quick else SIZES)),
        rounds=args.rounds or (5 if quick else 15),
        min_block=args.min_block if args.min_block is not None else (0.01 if quick else 0.02),
        budget=4.0 if quick else 20.0,
        resnet=not args.no_resnet,
        resnet_rounds=3 if quick else 7,
    )
    torch.set_num_threads(args.threads)
    kept = False if args.system_malloc else keep_freed_memory()
    result = run(**kwargs)
    result["meta"]["quick"] = quick
    result["meta"]["malloc"] = "glibc, freed memory kept (mallopt)" if kept else "system default"
    result["meta"]["command"] = "python -m attn_lib.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(report(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
