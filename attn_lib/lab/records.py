"""The book's trained models gathered over seeds."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from .train import (
    CLASSIFIER_ATTENTIONS, LAB_ATTENTIONS, LAB_CONTROLS, PLATEAU_DIR, UNET_ATTENTIONS, WEIGHTS_DIR,
)

__all__ = ["RUNS_DIR", "PLATEAU_DIR", "fast_and_far", "first_epoch_at", "lab_records", "lab_table", "late_gain", "seed_results"]

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


def lab_records(dataset: str, runs_dir: Path = RUNS_DIR, model: str = "classifier") -> dict[str, list[dict]]:
    """{attention: [record of each seed, in seed order]} of the lab's ``model`` runs
    ("classifier" or "unet") on ``dataset``."""
    if model not in ("classifier", "unet"):
        raise ValueError(f"model must be 'classifier' or 'unet'; got {model!r}")
    folder = Path(runs_dir) / dataset
    if not folder.is_dir():
        raise ValueError(f"no lab runs for dataset {dataset!r} in {runs_dir}")
    out: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        if record["recipe"]["task"] == model:
            out.setdefault(record["recipe"]["attention"], []).append(record)
    for records in out.values():
        records.sort(key=lambda r: r["recipe"]["seed"])
    return out


def lab_table(dataset: str, runs_dir: Path = RUNS_DIR, baseline: str = "none",
              model: str = "classifier") -> list[dict]:
    """Each attention's validation score over seeds against ``baseline``, as the book reports it
    (accuracy for classifiers, mean foreground Dice for U-Nets: ``model``).

    One row per attention (controls included): ``n``, ``mean`` with its 95 % t-interval,
    ``difference`` to the baseline with Welch's 95 % interval and its ``verdict`` ("gain",
    "loss" or "no measurable difference"), the score with every gate fixed at its mean and the
    ``ablation_drop`` (score − fixed-gate score, with its t-interval over seeds), and the mean
    training time. Attentions with fewer than two seeds are skipped.
    """
    from .stats import mean_ci, verdict, welch_difference

    records = lab_records(dataset, runs_dir, model)
    if baseline not in records or len(records[baseline]) < 2:
        raise ValueError(f"lab_table: {dataset!r} needs at least 2 seeds of {baseline!r}")
    base = [r["val_score"] for r in records[baseline]]
    rows = []
    for attention, runs in records.items():
        if len(runs) < 2:
            continue
        scores = [r["val_score"] for r in runs]
        row = {
            "attention": attention, "n": len(scores), "seeds": [r["recipe"]["seed"] for r in runs],
            "scores": scores, "mean": mean_ci(scores),
            "parameters": runs[0]["parameters"],
            "train_seconds": round(statistics.fmean(r["train_seconds"] for r in runs), 1),
        }
        if attention != baseline:
            row["difference"] = welch_difference(scores, base)
            row["verdict"] = verdict(row["difference"])
        drops = [r["val_score"] - r["val_score_mean_gates"] for r in runs if "val_score_mean_gates" in r]
        if len(drops) >= 2:
            row["ablation_drop"] = mean_ci(drops)
        rows.append(row)
    order = {a: i for i, a in enumerate(LAB_ATTENTIONS + LAB_CONTROLS)}
    return sorted(rows, key=lambda row: order.get(row["attention"], len(order)))


def late_gain(runs: list[dict], fraction: float = 1 / 3):
    """How much the validation score still rose over the last ``fraction`` of training: the
    score after the last epoch minus the score ``fraction`` of the epochs earlier, mean over
    seeds with its 95 % t-interval (an :class:`~attn_lib.lab.stats.Interval`).

    The lab calls a network plateaued when this gain is below half a point (0.005). Needs the
    learning curve every record has held since the plateau runs (``record["curve"]``).
    """
    from .stats import mean_ci

    gains = []
    for record in runs:
        scores = record.get("curve", {}).get("val_score")
        if not scores:
            raise ValueError(f"late_gain: record {record['name']!r} has no learning curve")
        back = max(1, round(len(scores) * fraction))
        if back >= len(scores):
            raise ValueError(f"late_gain: {record['name']!r} has too few epochs ({len(scores)})")
        gains.append(scores[-1] - scores[-1 - back])
    return mean_ci(gains)


def first_epoch_at(record: dict, score: float) -> int | None:
    """The first epoch after which the record's validation score reached ``score`` (None:
    never)."""
    return next((i + 1 for i, v in enumerate(record["curve"]["val_score"]) if v >= score), None)


def fast_and_far(task: str, mechanisms, baseline: str = "none", runs_dir: Path = RUNS_DIR,
                 plateau_dir: Path = PLATEAU_DIR, level: float = 0.05) -> list[dict]:
    """Each mechanism against ``baseline`` at the early budget and at the plateau, on ``task``.

    One dict per mechanism with at least two seeds at a budget: ``early`` and ``plateau``
    hold, for that budget, ``n``, the ``mean`` score and the ``difference`` to the baseline
    (Welch's 95 % interval), its p-value ``p``, the Holm-adjusted ``p_holm`` over the
    mechanisms compared at that budget, and the ``verdict`` ("gain", "loss" or "no
    measurable difference") by ``p_holm`` < ``level``; None where fewer than two seeds exist.
    A budget's family is the mechanisms given, so adding one changes every adjusted p.
    """
    from .stats import holm, mean_ci, welch_difference, welch_p_value

    out = {m: {"attention": m, "early": None, "plateau": None} for m in mechanisms}
    for budget, folder in (("early", runs_dir), ("plateau", plateau_dir)):
        try:
            found = lab_records(task, folder)
        except ValueError:  # no runs of this task at this budget yet
            continue
        base = [r["val_score"] for r in found.get(baseline, [])]
        if len(base) < 2:
            continue
        compared = [m for m in mechanisms if len(found.get(m, [])) >= 2]
        scores = {m: [r["val_score"] for r in found[m]] for m in compared}
        p_values = [welch_p_value(scores[m], base) for m in compared]
        for m, p, p_holm in zip(compared, p_values, holm(p_values)):
            difference = welch_difference(scores[m], base)
            if p_holm >= level:
                verdict = "no measurable difference"
            else:
                verdict = "gain" if difference.mean > 0 else "loss"
            out[m][budget] = {"n": len(scores[m]), "mean": mean_ci(scores[m]), "difference": difference,
                              "p": p, "p_holm": p_holm, "verdict": verdict, "family": len(compared)}
    return [row for row in out.values() if row["early"] or row["plateau"]]
