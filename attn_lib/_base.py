"""The API every attention module of `attn_lib` shares.

Each module is built as ``Module(channels, **hyper_parameters)``, maps
``x: (N, C, H, W)`` to a tensor of the same shape, and exposes the attention it computed
through one method, :meth:`AttentionModule.attention`, so that a figure never needs a
forward hook.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["AttentionModule", "attention_modules", "hidden_width"]


def hidden_width(channels: int, reduction: int, minimum: int = 1) -> int:
    """Width of a bottleneck ``C / r``, floored at ``minimum`` so it is never zero.

    The papers only use channel counts that ``r`` divides; for the small inputs a reader
    tries (``C = 8, r = 16``) a zero-width layer would silently turn the module into a
    constant.
    """
    if reduction < 1:
        raise ValueError(
            f"reduction ratio r must be a positive integer, got {reduction!r}"
        )
    return max(channels // reduction, minimum)


class AttentionModule(nn.Module):
    """Base class: input checks at the boundary, ``forward`` and ``attention`` from one
    code path.

    Subclasses implement :meth:`forward_with_attention`, which returns the output
    together with a dict of the gates it computed. Because :meth:`forward` and
    :meth:`attention` both call it, what a figure shows is exactly what the module
    multiplies by.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(
                f"{type(self).__name__}: channels must be a positive int, "
                f"got {channels!r}"
            )
        self.channels = channels

    def check_input(self, x: Tensor) -> None:
        """Raise a clear error unless ``x`` is a floating (N, C, H, W) tensor with
        C = channels.
        """
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{name}: expected a torch.Tensor of shape (N, C, H, W), "
                f"got {type(x).__name__}"
            )
        if x.dim() != 4:
            raise ValueError(
                f"{name}: expected a 4-D tensor (N, C, H, W), got {x.dim()}-D "
                f"of shape {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            raise TypeError(
                f"{name}: expected a floating-point tensor, got dtype {x.dtype}"
            )
        if x.shape[1] != self.channels:
            raise ValueError(
                f"{name}: expected {self.channels} channels (dim 1), got {x.shape[1]} "
                f"in shape {tuple(x.shape)}"
            )
        if self.training and x.shape[0] == 1 and self._has_pooled_batch_norm():
            raise ValueError(
                f"{name}: in training mode a batch of 1 cannot be used: its batch norm "
                "acts on a pooled (N, C, 1, 1) vector and needs N > 1; call .eval() or "
                "pass a larger batch"
            )

    def _has_pooled_batch_norm(self) -> bool:
        """Whether a batch norm in this module sees one value per channel and sample."""
        return False

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """x: (N, C, H, W) -> (N, C, H, W)."""
        self.check_input(x)
        return self.forward_with_attention(x)[0]

    @torch.no_grad()
    def attention(self, x: Tensor) -> dict[str, Tensor]:
        """The gates the module computes for ``x``, without gradients, keyed by kind.

        Keys used across the library: ``"channel"`` (N, C, 1, 1), ``"spatial"``
        (N, 1, H, W), ``"branch"`` (N, M, C) for selective kernels, ``"combined"``
        (N, C, H, W) for BAM, ``"local"`` (N, C, H, W) for Gather-Excite with a
        finite extent, ``"height"`` (N, C, H, 1) and ``"width"`` (N, C, 1, W) for
        coordinate attention (whose gate is their product).
        """
        self.check_input(x)
        return self.forward_with_attention(x)[1]


def attention_modules(model: nn.Module) -> list[tuple[str, AttentionModule]]:
    """(qualified name, module) of the outermost attention modules in ``model``, in
    forward order.

    The halves inside a CBAM or an scSE are not listed separately: their gates come with
    their parent's :meth:`AttentionModule.attention`.
    """
    found: list[tuple[str, AttentionModule]] = []
    for name, module in model.named_modules():
        if isinstance(module, AttentionModule) and not any(
            name.startswith(p + ".") for p, _ in found
        ):
            found.append((name, module))
    return found
