"""What a module costs: parameters, multiply-adds and CPU latency, measured the same way everywhere.

FLOPs come from :class:`torch.utils.flop_counter.FlopCounterMode`, which counts 2 FLOPs per
multiply-add of convolutions and matrix products and nothing for pooling, sigmoid, softmax or
element-wise scaling. The papers count multiply-adds, so :func:`multiply_adds` halves it; the
element-wise work it skips is what :mod:`attn_lib.bench` measures in time instead.
"""

from __future__ import annotations


import torch
from torch import Tensor, nn
from torch.utils import benchmark
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["parameters", "multiply_adds", "latency_ms"]


def parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@torch.no_grad()
def multiply_adds(module: nn.Module, x: Tensor) -> int:
    """Multiply-adds of one forward pass on ``x`` (convolutions and matrix products only)."""
    was_training = module.training
    module.eval()
    counter = FlopCounterMode(display=False)
    with counter:
        module(x)
    module.train(was_training)
    return counter.get_total_flops() // 2


@torch.no_grad()
def latency_ms(module: nn.Module, x: Tensor, min_run_time: float = 0.5) -> tuple[float, float]:
    """Median and interquartile range, in milliseconds, of one forward pass on ``x`` (eval mode).

    Uses :class:`torch.utils.benchmark.Timer` (warm-up, thread settings and timer handled).
    """
    was_training = module.training
    module.eval()
    timer = benchmark.Timer("module(x)", globals={"module": module, "x": x},
                            num_threads=torch.get_num_threads())
    m = timer.blocked_autorange(min_run_time=min_run_time)
    module.train(was_training)
    return m.median * 1e3, m.iqr * 1e3
