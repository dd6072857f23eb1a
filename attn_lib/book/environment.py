"""Imports that need help in the book's own environment, and only there.

PyPI's torchvision wheels for x86-64 Linux are built against PyTorch's CUDA build. Installed
beside the CPU-only build of PyTorch that the book pins (``torch==2.13.0+cpu``), the wheel's
compiled operators (``torchvision._C``) cannot load, and ``import torchvision`` then fails with
``RuntimeError: operator torchvision::nms does not exist``: its fake-tensor registrations for
``nms`` and ``qnms`` run whether or not the compiled library loaded. timm and
segmentation_models_pytorch import torchvision, so they fail the same way.

Nothing the book uses needs those operators: torchvision's ResNets are plain PyTorch modules.
:func:`import_torchvision` declares the two operator schemas torchvision registers against,
without any kernel, and imports it. Where torchvision loads normally (Colab, a CUDA install, a
CPU wheel from download.pytorch.org) it does nothing but import. Calling ``torchvision.ops.nms``
after the workaround raises ``NotImplementedError``, which is the truth: there is no kernel.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import torch

__all__ = ["import_torchvision"]

# The schemas torchvision 0.28 declares in C++ for the two operators its Python side registers
# fake implementations for unconditionally (torchvision/_meta_registrations.py).
_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_declared: list[torch.library.Library] = []  # kept alive: a Library's definitions die with it


def import_torchvision() -> ModuleType:
    """``import torchvision``, declaring its missing operators first if its extension cannot load."""
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
    # The failed import left half-initialised modules behind; drop them before trying again.
    import sys

    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "FRAGMENT")
    for op, schema in _SCHEMAS.items():
        if not hasattr(torch.ops.torchvision, op):
            library.define(schema)
    _declared.append(library)
    return importlib.import_module("torchvision")
