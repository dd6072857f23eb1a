"""Means, 95 % confidence intervals, and differences that are claimed only when they exclude zero.

Scores over seeds are few (5 to 10): intervals use Student's t. A difference between two
models is Welch's (unequal variances, Welch–Satterthwaite degrees of freedom): the seeds of
two architectures initialise different parameters, so pairing them by seed would pair nothing.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from scipy import stats as _scipy_stats

__all__ = ["Interval", "mean_ci", "welch_difference", "welch_p_value", "holm", "verdict"]


@dataclass(frozen=True)
class Interval:
    """A mean (or a difference of means) with its 95 % confidence interval and sample sizes."""

    mean: float
    low: float
    high: float
    n: tuple[int, ...]

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        def signed(v: float) -> str:
            text = f"{v:+.3f}"
            return "+0.000" if text == "-0.000" else text  # a rounded zero has no sign

        return f"{signed(self.mean)} [{signed(self.low)}, {signed(self.high)}]"


def _check(scores: Sequence[float], what: str) -> list[float]:
    values = [float(s) for s in scores]
    if len(values) < 2:
        raise ValueError(f"{what}: an interval needs at least 2 scores, got {len(values)}")
    return values


def mean_ci(scores: Sequence[float], level: float = 0.95) -> Interval:
    """Mean of ``scores`` and its ``level`` t-interval."""
    values = _check(scores, "mean_ci")
    n = len(values)
    mean = statistics.fmean(values)
    half = _scipy_stats.t.ppf(0.5 + level / 2, n - 1) * statistics.stdev(values) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, (n,))


def welch_difference(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Interval:
    """mean(a) − mean(b) with Welch's ``level`` interval."""
    a, b = _check(a, "welch_difference"), _check(b, "welch_difference")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.fmean(a) - statistics.fmean(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(diff, diff, diff, (len(a), len(b)))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = _scipy_stats.t.ppf(0.5 + level / 2, df) * se
    return Interval(diff, diff - half, diff + half, (len(a), len(b)))


def welch_p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test of mean(a) = mean(b): the test whose 95 % interval
    :func:`welch_difference` gives (p < 0.05 exactly when that interval excludes zero).

    Where neither group varies (every seed scored the same, as a few seeds near the ceiling
    of a 1000-image validation set can), the test has no estimate of the noise to judge a
    difference against: p is 1, no verdict, rather than 0."""
    a, b = _check(a, "welch_p_value"), _check(b, "welch_p_value")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return 1.0
    t = (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(2 * _scipy_stats.t.sf(abs(t), df))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values, in their order.

    Judging each adjusted p-value against 0.05 keeps the chance of one or more false "gain"
    or "loss" verdicts in the whole family at 5 %, where 5 % per comparison would not.
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def verdict(difference: Interval, higher_is_better: bool = True) -> str:
    """"gain", "loss" or "no measurable difference", by whether the interval excludes zero."""
    if not difference.excludes_zero:
        return "no measurable difference"
    better = difference.mean > 0 if higher_is_better else difference.mean < 0
    return "gain" if better else "loss"
