"""Floors: the passes over x (and, backward, over the output gradient) a module cannot avoid."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["FLOORS", "BACKWARD_FLOOR", "floor_call"]

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
    "ge": "channel gate: x.mean((2,3)) and x * g (GE-θ⁻ with a global extent, the default)",
    "fca": "channel gate: x.mean((2,3)) and x * g (a DCT coefficient reads x once, as the mean does)",
    "srm": "channel gate: x.mean((2,3)) and x * g (one read of x can yield both Σx and Σx², which PyTorch has no "
           "single operation for; torch.var_mean takes 30 times as long as x.mean)",
    "coord": "x.mean(3), x.mean(2) and one scaling pass x * g_h (a fused kernel could apply g_h · g_w in that "
             "one pass); backward: the reductions of grad_out · x to (N, C, H) and (N, C, W) and grad_out * g_h",
    "triplet": "x.mean(1), x.mean(2), x.mean(3) (the three Z-pools; their max is a second reduction that a fused "
               "kernel would take in the same read) and one scaling pass x * g (the three gates summed, N×C×H×W)",
    "simam": "x.mean((2,3)) and one scaling pass x * g (the deviations need μ first, so two reads of x; g "
             "precomputed, N×C×H×W); backward: the reduction of (grad_out · x) to (N, C) and grad_out * g",
    "gc": "x.mean((2,3)) (a fused online-softmax kernel reads x once for the logits and the context) and one "
          "pass x + t (t precomputed, N×C×1×1); backward: grad_out.sum((2,3)) and one pass for the input "
          "gradient, grad_out + α · g_c",
    "gc-timm": "as gc",
}
BACKWARD_FLOOR = (
    "forward floor, plus for each gate the reduction of (grad_out · x) to the gate's shape "
    "(torch.einsum, no temporary) and one pass grad_out * g for the input gradient; BAM adds its "
    "1×1 convolution's backward; SK is the forward and backward of its branches"
)



def floor_call(case: str, module: nn.Module, x: Tensor, grad_out: Tensor, backward: bool) -> Callable[[], object]:
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

    if case in ("se", "eca", "cbam-channel", "ge", "fca", "srm"):
        fwd, bwd = channel_fwd, channel_bwd
    elif case == "simam":
        g3 = torch.rand_like(x)

        def fwd():
            return x.mean((2, 3)), x * g3

        def bwd():
            return torch.einsum("nchw,nchw->nc", grad_out, x), grad_out * g3
    elif case == "triplet":
        g3 = torch.rand_like(x)

        def fwd():
            return x.mean(1), x.mean(2), x.mean(3), x * g3

        def bwd():
            return (torch.einsum("nchw,nchw->nhw", grad_out, x), torch.einsum("nchw,nchw->ncw", grad_out, x),
                    torch.einsum("nchw,nchw->nch", grad_out, x), grad_out * g3)
    elif case in ("gc", "gc-timm"):
        alpha = torch.rand(n, 1, h, w, device=x.device)

        def fwd():
            return x.mean((2, 3)), x + g

        def bwd():
            return grad_out.sum((2, 3)), torch.addcmul(grad_out, alpha, g)
    elif case == "coord":
        g_h = torch.rand(n, c, h, 1, device=x.device)

        def fwd():
            return x.mean(3), x.mean(2), x * g_h

        def bwd():
            return (torch.einsum("nchw,nchw->nch", grad_out, x), torch.einsum("nchw,nchw->ncw", grad_out, x),
                    grad_out * g_h)
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
