"""The non-local block's cost against the map's size: time and memory as H = W grows.

A non-local block forms an HW × H'W' attention matrix per image, so its time grows as (HW)²
once the matrix dominates the 1×1 convolutions; GC, which computes one attention map per image,
grows as HW. This measures, at each size, the library's non-local block, the same block
computed the straightforward way (:class:`~attn_lib.bench.baselines._BaselineNonLocal`, the
authors' computation written in PyTorch, which scales the logits rather than the queries), the
block with the paper's subsampling of φ and g, and GC, all at the same C. Times are per call (median over
interleaved rounds, as the rest of the benchmark); peak memory is exact.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from ..registry import create
from .baselines import baseline_module, check_baseline, library_module
from .timing import BATCH, MODES, _call, interleaved_times, peak_bytes

__all__ = ["CURVE_BASELINE", "CURVE_CHANNELS", "CURVE_SIZES", "nonlocal_curve"]

CURVE_CHANNELS = 256
CURVE_BASELINE = ("nonlocal-explicit: the block as the authors' code computes it, in PyTorch: θ, φ, g convs, "
                  "view and permute, matmul, × (C/2)^-½, softmax, matmul, permute, W_z conv, BatchNorm2d, + x "
                  "(the HW × HW attention matrix held in memory)")
CURVE_SIZES = (7, 14, 21, 28, 42, 56)


def nonlocal_curve(channels: int = CURVE_CHANNELS, sizes=CURVE_SIZES, batch: int = BATCH, rounds: int = 7,
                   min_block: float = 0.02, budget: float | None = 20.0, progress: bool = True) -> list[dict]:
    """One row per (size, mode): ms and peak bytes of each candidate."""
    rows = []
    for size in sizes:
        # Fresh modules at each size: training-mode calls move the batch norms' running
        # statistics, by a different number of calls in each candidate.
        library = library_module("nonlocal", channels)
        baseline = baseline_module("nonlocal", library)
        subsampled = create("nonlocal", channels, subsample=True)
        subsampled.load_state_dict(library.state_dict())
        gc = library_module("gc", channels)
        torch.manual_seed(1)
        x = torch.randn(batch, channels, size, size)
        check_baseline("nonlocal", library, baseline, x)
        grad_out = torch.randn_like(x)
        for mode in MODES:
            t0 = time.perf_counter()
            backward = mode == "forward+backward"
            candidates = {"nonlocal": library, "nonlocal-explicit": baseline,
                          "nonlocal-subsampled": subsampled, "gc": gc}
            for m in candidates.values():
                m.train(backward)
            fns = {name: _call(m, x, grad_out, backward) for name, m in candidates.items()}
            with torch.set_grad_enabled(backward):
                times = interleaved_times(fns, rounds, min_block, budget=budget, min_rounds=3)
                memory = {name: peak_bytes(fn) for name, fn in fns.items()}
            rows.append({
                "mode": mode, "N": batch, "C": channels, "H": size, "W": size, "positions": size * size,
                "rounds": len(times["nonlocal"]),
                "ms": {name: round(statistics.median(t) * 1e3, 4) for name, t in times.items()},
                "peak_bytes": memory, "x_bytes": x.numel() * x.element_size(),
            })
            if progress:
                ms = rows[-1]["ms"]
                print(f"nonlocal curve {mode:16s} {size:>2d}x{size:<2d} " +
                      " ".join(f"{k} {v:.2f} ms" for k, v in ms.items()) +
                      f" ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    return rows
