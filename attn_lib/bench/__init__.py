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

Files: ``baselines.py`` (the straightforward implementations and the check that they compute
what the library computes), ``floors.py`` (the unavoidable passes), ``timing.py`` (interleaved
clocks, peak memory, one case at one shape), ``resnet50.py`` (each attention in its paper's
network, beside the numbers the papers print), ``report.py`` (targets and the printed tables),
``run.py`` (the command line), ``cost.py`` (parameters, multiply-adds, latency of one module),
``results.json`` (the full run the book quotes).
"""

from __future__ import annotations

from .run import CASES, DEFAULT_OUT, main, run

__all__ = ["CASES", "DEFAULT_OUT", "main", "run"]
