"""The command line: ``python -m attn_lib.bench [--quick]``; see :mod:`attn_lib.bench`."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from .baselines import BASELINES, CASES, timm_available
from .curve import CURVE_BASELINE, CURVE_SIZES, nonlocal_curve
from .floors import BACKWARD_FLOOR, FLOORS
from .report import evaluate_targets, report
from .resnet50 import resnet50_table
from .timing import BATCH, clock_name, keep_freed_memory, measure

__all__ = ["CASES", "DEFAULT_OUT", "run", "main"]

DEFAULT_OUT = Path(__file__).parent / "results.json"

CHANNELS = (64, 256, 1024)
SIZES = (56, 28, 14, 7)
QUICK_CHANNELS = (64, 256)
QUICK_SIZES = (28, 7)
QUICK_CURVE_SIZES = (7, 14)


def run(cases=CASES, channels=CHANNELS, sizes=SIZES, rounds: int = 15, min_block: float = 0.02,
        budget: float | None = 20.0, resnet: bool = True, resnet_rounds: int = 7, devices=None,
        progress: bool = True, curve_sizes=CURVE_SIZES) -> dict:
    """Measure every case at every shape on every device; return the JSON-ready result.

    The non-local block's curve over H = W (``curve_sizes``; empty: none) runs on the CPU."""
    if "gc-timm" in cases and not timm_available():
        print("timm is not installed: the gc-timm case is skipped (pip install 'attn_lib[test]')",
              file=sys.stderr)
        cases = tuple(c for c in cases if c != "gc-timm")
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
                       "with interquartile range and min-max; see attn_lib/bench/__init__.py"),
            "memory": ("peak bytes allocated during one call beyond those held before it (CPU: torch.profiler "
                       "allocation events; CUDA: max_memory_allocated); tensors only"),
        },
        "floors": FLOORS, "backward_floor": BACKWARD_FLOOR, "baselines": BASELINES,
        "modules": rows,
        "targets": evaluate_targets(rows),
    }
    if curve_sizes:
        result["nonlocal_curve_baseline"] = CURVE_BASELINE
        result["nonlocal_curve"] = nonlocal_curve(sizes=curve_sizes, rounds=max(3, rounds // 2),
                                                  min_block=min_block, budget=budget, progress=progress)
    if resnet:
        result["resnet50"] = resnet50_table(rounds=resnet_rounds)
    result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attn_lib.bench", description="How fast and how lean each module is, as ratios measured in one run.")
    p.add_argument("--quick", action="store_true",
                   help=f"C in {QUICK_CHANNELS}, H = W in {QUICK_SIZES}, fewer rounds: about a minute")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default: {DEFAULT_OUT})")
    p.add_argument("--cases", nargs="+", choices=CASES, default=None, help="modules to measure (default: all)")
    p.add_argument("--channels", nargs="+", type=int, default=None, help="override the channel counts")
    p.add_argument("--sizes", nargs="+", type=int, default=None, help="override H = W")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds per comparison")
    p.add_argument("--min-block", type=float, default=None, help="seconds each timed block lasts at least")
    p.add_argument("--no-resnet", action="store_true", help="skip the ResNet-50 table")
    p.add_argument("--no-curve", action="store_true", help="skip the non-local block's curve over H = W")
    p.add_argument("--curve-sizes", nargs="+", type=int, default=None,
                   help=f"H = W of the non-local block's curve (default {' '.join(map(str, CURVE_SIZES))})")
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
        curve_sizes=(() if args.no_curve else tuple(args.curve_sizes) if args.curve_sizes
                     else QUICK_CURVE_SIZES if quick else CURVE_SIZES),
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

