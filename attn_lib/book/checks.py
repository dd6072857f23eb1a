"""Numerical checks a chapter prints as facts that hold on any machine.

A float32 residual such as ``2.4e-07`` depends on which CPU kernels PyTorch picked (AVX2,
AVX-512, none): printed raw, it changes from one machine to the next and the notebook tests
(nbval) cannot compare it. The chapters print a verdict against a stated tolerance instead.
"""

from __future__ import annotations

import torch

__all__ = ["agreement"]


def agreement(actual: torch.Tensor, expected: torch.Tensor, tolerance: float) -> str:
    """How closely two tensors agree, as a sentence that does not change with the CPU.

    Args:
        actual, expected: tensors of the same shape (NaNs count as disagreement).
        tolerance: the largest absolute difference accepted, e.g. 1e-6 for float32 gates
            in [0, 1]; 0 asks for bitwise-equal values.

    Returns:
        "identical" (tolerance 0, every value equal), "agree within 1e-06", or, when they
        do not, "differ by 3.1e-02 (more than 1e-06)": the residual is printed only then,
        because only then is it the point.
    """
    if tolerance < 0:
        raise ValueError(f"agreement: tolerance must be >= 0, got {tolerance}")
    actual, expected = torch.as_tensor(actual), torch.as_tensor(expected)
    if actual.shape != expected.shape:
        raise ValueError(f"agreement: shapes differ, {tuple(actual.shape)} vs {tuple(expected.shape)}")
    difference = (actual.double() - expected.double()).abs().max().item() if actual.numel() else 0.0
    if difference != difference:  # NaN
        return "differ (NaN in one of them)"
    if difference <= tolerance:
        return "identical" if tolerance == 0 else f"agree within {tolerance:.0e}"
    return f"differ by {difference:.1e} (more than {tolerance:.0e})"
