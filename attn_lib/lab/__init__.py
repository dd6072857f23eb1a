"""The book's laboratory: generated tasks, training, the models it ships, and what their gates mean.

Files: ``tasks.py`` (one task per kind of attention) on top of ``data.py`` (the shapes
renderer, sample photographs); ``train.py`` (recipes, the lab's protocol, and
``python -m attn_lib.lab.train``); ``pretrained.py`` + ``weights/`` (the shipped models and the
record of how each was trained); ``records.py`` + ``runs/`` (results over seeds); ``stats.py``
(intervals and differences); ``ablation.py`` (gates fixed at their mean); ``meaning.py``
(spatial gates against object masks); ``receptive.py`` (what a gate depends on).

Submodules load on first use (``attn_lib.lab.train``), so that ``python -m attn_lib.lab.train``
does not import itself twice.
"""

import importlib

_SUBMODULES = ("ablation", "attribution", "data", "meaning", "pretrained", "receptive", "records", "stats",
               "tasks", "train")

__all__ = list(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
