"""The book's trained models gathered over seeds."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from .train import CLASSIFIER_ATTENTIONS, UNET_ATTENTIONS, WEIGHTS_DIR

__all__ = ["RUNS_DIR", "seed_results"]

# Records of the runs whose weights are not shipped (seeds other than 0).
RUNS_DIR = Path(__file__).parent / "runs"


def seed_results(seeds: tuple[int, ...] = (0, 1, 2), runs_dir: Path = RUNS_DIR,
                 weights_dir: Path | None = None) -> list[dict]:
    """Mean ± standard deviation over seeds of each book model's validation score.

    Seed 0's records are the shipped ones (``weights/<name>.json``); other seeds' are
    ``lab/runs/<name>-seed<k>.json``. Returns one dict per model, in training order:
    ``{"name", "task", "attention", "metric", "scores", "seeds", "mean", "std"}`` (std is the
    sample standard deviation; 0 with a single seed). Seeds whose record is missing are skipped.
    """
    weights_dir = WEIGHTS_DIR if weights_dir is None else Path(weights_dir)
    out = []
    for task, attentions in (("classifier", CLASSIFIER_ATTENTIONS), ("unet", UNET_ATTENTIONS)):
        for attention in attentions:
            name, scores, found, metric = f"{task}-{attention}", [], [], None
            for seed in seeds:
                path = weights_dir / f"{name}.json" if seed == 0 else Path(runs_dir) / f"{name}-seed{seed}.json"
                if not path.exists():
                    continue
                record = json.loads(path.read_text())
                scores.append(record["val_score"])
                found.append(seed)
                metric = record["metric"]
            if not scores:
                continue
            out.append({
                "name": name, "task": task, "attention": attention, "metric": metric,
                "scores": scores, "seeds": found, "mean": round(statistics.mean(scores), 4),
                "std": round(statistics.stdev(scores), 4) if len(scores) > 1 else 0.0,
            })
    return out
