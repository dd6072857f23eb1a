"""The small models the book trained itself, shipped inside the package as safetensors.

    model = attn_lib.lab.pretrained.load("classifier-cbam")   # eval mode, weights loaded
    attn_lib.lab.pretrained.record("classifier-cbam")          # how it was trained, what it scored
"""

from __future__ import annotations

import json
from functools import lru_cache

from safetensors.torch import load_file
from torch import nn

from .train import WEIGHTS_DIR, Recipe, build_model

__all__ = ["available", "load", "record"]


def available() -> list[str]:
    """Names of the shipped models, e.g. ``["classifier-bam", ..., "unet-scse"]``."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.json"))


@lru_cache(maxsize=None)
def record(name: str) -> dict:
    """The JSON record written when ``name`` was trained (recipe, score, command, environment)."""
    path = WEIGHTS_DIR / f"{name}.json"
    if not path.exists():
        raise ValueError(f"no shipped model named {name!r}; expected one of: {', '.join(available())}")
    return json.loads(path.read_text())


def load(name: str) -> nn.Module:
    """The trained model ``name`` in eval mode (a fresh copy on every call)."""
    recipe = Recipe(**record(name)["recipe"])
    model = build_model(recipe)
    # Weights ship in float16; load_state_dict copies them into the float32 parameters.
    model.load_state_dict(load_file(WEIGHTS_DIR / f"{name}.safetensors"))
    return model.eval()
