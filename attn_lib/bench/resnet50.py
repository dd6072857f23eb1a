"""ResNet-50 with each attention, beside the papers' own numbers."""

from __future__ import annotations

import statistics

import torch

from . import cost
from .timing import interleaved_times, ratios

__all__ = ["PAPER_RESNET50", "resnet50_table"]

# Values as printed in each paper's table; a value not remembered with certainty is left out
# (None). The papers' "GFLOPs" are multiply-adds.
PAPER_RESNET50 = {
    "resnet50": {"params_M": None, "gmacs": 3.8,
                 "source": "He et al. 2016, Table 1 (50-layer: 3.8×10^9 FLOPs; parameters not tabulated)"},
    "se": {"params_M": 28.1, "gmacs": 3.87,
           "source": "Hu et al. (SE), Table 2 (SE-ResNet-50: 3.87 GFLOPs vs 3.86 for ResNet-50); "
                     "parameters from its reduction-ratio ablation table (r = 16: 28.1 M)"},
    "cbam": {"params_M": 28.09, "gmacs": None,
             "source": "Woo et al. (CBAM), ImageNet classification table (ResNet50 + CBAM: 28.09 M)"},
    "bam": {"params_M": 25.92, "gmacs": None,
            "source": "Park et al. (BAM), ImageNet classification table (ResNet50 + BAM: 25.92 M)"},
    "eca": {"params_M": 24.37, "gmacs": 3.86,
            "source": "Wang et al. (ECA-Net), abstract: ECA adds 80 parameters and 4.7e-4 GFLOPs to a ResNet-50 "
                      "it counts as 24.37 M parameters and 3.86 GFLOPs (other papers count 25.56 M)"},
    "sknet50": {"params_M": 27.5, "gmacs": 4.47,
                "source": "Li et al. (SKNet), Table 2 (SKNet-50: 27.5 M, 4.47 GFLOPs; ResNeXt-50: 25.0 M, 4.24)"},
}


def resnet50_table(rounds: int = 7, min_block: float = 0.0, device: torch.device = torch.device("cpu")) -> list[dict]:
    """Parameters, multiply-adds (1×3×224×224) and batch-1 CPU latency of each attention's
    ResNet-50, the latency as a ratio to plain ResNet-50 timed interleaved with it."""
    from ..models import resnet50, sknet50

    builders = {
        "resnet50": lambda: resnet50(),
        **{a: (lambda a=a: resnet50(attention=a))
           for a in ("se", "cbam", "bam", "eca", "ge", "srm", "fca", "coord", "triplet", "simam", "nonlocal", "gc")},
        "sknet50": lambda: sknet50(),
    }
    torch.manual_seed(0)
    x = torch.randn(1, 3, 224, 224)
    models, rows = {}, {}
    for name, build in builders.items():
        model = build().eval()
        rows[name] = {
            "model": name if name in ("resnet50", "sknet50") else f"resnet50+{name}",
            "params_M": round(cost.parameters(model) / 1e6, 3),
            "gmacs": round(cost.multiply_adds(model, x) / 1e9, 3),
        }
        models[name] = model.to(device)
    xd = x.to(device)
    with torch.no_grad():
        times = interleaved_times({n: (lambda m=m: m(xd)) for n, m in models.items()}, rounds, min_block, device)
    out = []
    for name, row in rows.items():
        row["latency_ms"] = round(statistics.median(times[name]) * 1e3, 2)
        row["latency_ratio_resnet50"] = ratios(times, name, "resnet50")
        # Part II's papers are not tabulated here; their chapters give their own counts.
        row["paper"] = PAPER_RESNET50.get(name, {"params_M": None, "gmacs": None, "source": None})
        out.append(row)
    return out
