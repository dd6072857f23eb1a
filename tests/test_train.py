"""The shipped weights: safe format, faithful records, and reproducible from their command."""

import json
import subprocess
import sys
from functools import lru_cache

import pytest
from safetensors import safe_open

from attn_lib.lab import pretrained
from attn_lib.lab.train import (
    CLASSIFIER_ATTENTIONS, LAB_SHIPPED, UNET_ATTENTIONS, WEIGHTS_DIR, Recipe, evaluate, main,
    validation_set,
)

SHIPPED = ([f"classifier-{a}" for a in CLASSIFIER_ATTENTIONS] + [f"unet-{a}" for a in UNET_ATTENTIONS]
           + list(LAB_SHIPPED))
# Two runs of one command differ only by thread scheduling; this is how far apart they may land.
BAND = 0.05


def test_every_book_model_is_shipped_as_safetensors_with_a_record():
    assert pretrained.available() == sorted(SHIPPED)
    assert not list(WEIGHTS_DIR.glob("*.pt*")) and not list(WEIGHTS_DIR.glob("*.pkl"))
    total = sum(p.stat().st_size for p in WEIGHTS_DIR.iterdir())
    # 64 files: the first chapters' 10 models (kept for tests/test_meaning_*), the lab's
    # seed-0 models the chapters load (Part I and Part II), two U-Nets. A budget, not a target.
    assert total < 21e6, f"shipped weights take {total / 1e6:.1f} MB"
    for name in SHIPPED:
        with safe_open(WEIGHTS_DIR / f"{name}.safetensors", "pt") as f:
            assert json.loads(f.metadata()["recipe"]) == pretrained.record(name)["recipe"]


@lru_cache(maxsize=None)
def _validation_set(dataset: str, data_seed: int | None, image_size: int, val_size: int):
    """Generated once per task and size: most shipped models share their validation set."""
    return validation_set(Recipe("classifier", "none", image_size=image_size, val_size=val_size,
                                 dataset=dataset, data_seed=data_seed))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_scores_what_its_record_says(name):
    record = pretrained.record(name)
    recipe = Recipe(**record["recipe"])
    # The validation set depends on the task, the size and the count, not on the model or seed.
    val = _validation_set(recipe.dataset, recipe.data_seed, recipe.image_size, recipe.val_size)
    assert evaluate(recipe, pretrained.load(name), val) == pytest.approx(record["val_score"], abs=1e-3)
    # Learned: at least twice chance (5 classes) for a classifier; the lab's spotlight task is
    # hard enough that 0.55 is a typical score there.
    floor = 0.4 if record["metric"] == "accuracy" else 0.7
    assert record["val_score"] > floor, f"{name} did not learn: {record['val_score']}"


def test_retraining_with_the_recorded_command_lands_in_the_recorded_band(tmp_path):
    # CI's one determinism retrain: a lab model a chapter loads, from its record's command.
    name = "cued-classifier-eca-seed0"
    record = pretrained.record(name)
    command = record["command"].split()
    assert command[:4] == ["python", "-m", "attn_lib.lab.train", "lab"]
    subprocess.run([sys.executable, *command[1:], "--out", str(tmp_path), "--quiet", "--no-weights"],
                   check=True, timeout=900)
    again = json.loads((tmp_path / f"{name}.json").read_text())
    # Fields added to Recipe since the record was written take their defaults: the same recipe.
    assert Recipe(**again["recipe"]) == Recipe(**record["recipe"])
    assert abs(again["val_score"] - record["val_score"]) <= BAND, (again["val_score"], record["val_score"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["classifier", "--attention", "transformer"], "--attention for classifier must be one of none, se"),
        (["unet", "--attention", "cbam"], "--attention for unet must be one of none, scse"),
        (["classifier", "--epochs", "0"], "--epochs must be a positive integer"),
        (["gan"], "invalid choice: 'gan'"),
    ],
)
def test_bad_arguments_exit_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_pretrained_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="no shipped model named 'resnet'; expected one of: classifier-bam"):
        pretrained.record("resnet")
