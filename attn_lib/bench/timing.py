"""Interleaved timing, peak memory, and one case measured at one shape against its references."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import math
import statistics
import time
from typing import Callable

import torch
from torch import Tensor, nn

from .baselines import baseline_module, check_baseline, library_module
from .floors import floor_call

__all__ = ["BATCH", "MODES", "clock_name", "interleaved_times", "keep_freed_memory", "measure", "peak_bytes", "ratios"]

MODES = ("forward", "forward+backward")
BATCH = 8


def _call(module: nn.Module, x: Tensor, grad_out: Tensor, backward: bool) -> Callable[[], object]:
    if not backward:
        return lambda: module(x)
    xg = x.detach().clone().requires_grad_()
    inputs = [xg, *(p for p in module.parameters() if p.requires_grad)]

    def fwd_bwd():
        y = module(xg)
        return torch.autograd.grad(y, inputs, grad_out)
    return fwd_bwd




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


def ratios(times: dict[str, list[float]], num: str, den: str) -> dict[str, float]:
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
            "floor": floor_call(case, library, x, grad_out, backward),
            "baseline": _call(baseline, x, grad_out, backward),
        }
        with torch.set_grad_enabled(backward):
            times = interleaved_times(fns, rounds, min_block, device, budget)
            memory = {name: peak_bytes(fn, device) for name, fn in fns.items()}
        rows.append({
            "case": case, "mode": mode, "device": device.type, "N": batch, "C": channels, "H": size, "W": size,
            "rounds": len(times["library"]),
            "ms": {name: round(statistics.median(t) * 1e3, 4) for name, t in times.items()},
            "ratio_floor": ratios(times, "library", "floor"),
            "ratio_baseline": ratios(times, "library", "baseline"),
            "x_bytes": x.numel() * x.element_size(),
            "peak_bytes": memory,
            "memory_ratio_floor": round(memory["library"] / max(memory["floor"], 1), 3),
            "memory_ratio_baseline": round(memory["library"] / max(memory["baseline"], 1), 3),
        })
    return rows


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
