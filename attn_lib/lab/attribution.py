"""Grad-CAM: what the predicted class's score depends on, to set beside a gate.

Selvaraju, Cogswell, Das, Vedantam, Parikh, Batra. "Grad-CAM: Visual Explanations from Deep
Networks via Gradient-based Localization". ICCV 2017. https://arxiv.org/abs/1610.02391

    α_c = mean over (i, j) of ∂y/∂A_c(i, j),    L = ReLU(Σ_c α_c A_c)

A is the output of a chosen layer and y the score of the target class (the predicted one by
default). A gate says what the network multiplied by; Grad-CAM, how the score would move with
each position's features. They answer different questions, which is why the book shows both.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["grad_cam"]


def grad_cam(model: nn.Module, images: Tensor, layer: str, target: Tensor | None = None) -> Tensor:
    """Grad-CAM maps (N, H, W) of ``layer`` for ``images`` (N, 3, H, W), each divided by its max.

    ``target``: (N,) classes to explain; default, each image's predicted class. The model runs
    in eval mode (restored afterwards); a map that is zero everywhere stays zero.
    """
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"grad_cam: no layer {layer!r}; layers: {[n for n in modules if n][:12]} ...")
    saved: dict[str, Tensor] = {}

    def keep(module, args, output):
        output.retain_grad()
        saved["a"] = output

    training = model.training
    handle = modules[layer].register_forward_hook(keep)
    try:
        model.eval()
        with torch.enable_grad():
            logits = model(images)
            cls = logits.argmax(1) if target is None else torch.as_tensor(target)
            logits.gather(1, cls.view(-1, 1)).sum().backward()
    finally:
        handle.remove()
        model.train(training)
        model.zero_grad(set_to_none=True)
    a = saved["a"]
    alpha = a.grad.mean((2, 3), keepdim=True)
    cam = F.relu((alpha * a).sum(1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)
    return cam / peak
