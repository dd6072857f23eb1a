"""The book's laboratory: generated tasks, training, the models it ships, and what their gates mean.

Files: ``data.py`` (tasks generated from a seed, sample photographs), ``train.py`` (recipes and
``python -m attn_lib.lab.train``), ``pretrained.py`` + ``weights/`` (the shipped models and the
record of how each was trained), ``records.py`` + ``runs/`` (results over seeds),
``meaning.py`` (spatial gates against object masks), ``receptive.py`` (what a gate depends on).
"""

from . import data, meaning, pretrained, receptive, records, train

__all__ = ["data", "meaning", "pretrained", "receptive", "records", "train"]
