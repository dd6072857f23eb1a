"""Train the book's small models on the generated shapes data, on the CPU.

    python -m attn_lib.lab.train classifier --attention se      # one classifier
    python -m attn_lib.lab.train unet --attention scse          # one U-Net (or --attention none)
    python -m attn_lib.lab.train all                            # every model the book ships

Each run writes ``<name>.safetensors`` (the weights, never a pickle) and ``<name>.json`` (the
recipe, the command, the environment and the scores) into ``--out`` (default: the package's own
``weights/`` folder). :func:`attn_lib.lab.pretrained.load` rebuilds a model from that record.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from .data import CLASSES, make_shapes
from ..models import ResNet, UNet
from ..models.resnet import BasicBlock

__all__ = ["Recipe", "CLASSIFIER_ATTENTIONS", "UNET_ATTENTIONS", "build_model", "train", "main"]

WEIGHTS_DIR = Path(__file__).parent / "weights"
CLASSIFIER_ATTENTIONS = ("none", "se", "sse", "scse", "cbam", "bam", "sk", "eca")
UNET_ATTENTIONS = ("none", "scse")


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a trained model: architecture, data and optimisation."""

    task: str  # "classifier" or "unet"
    attention: str  # a registered name or "none"
    seed: int = 0
    image_size: int = 48
    train_size: int = 4000
    val_size: int = 1000
    epochs: int = 6
    batch_size: int = 64
    lr: float = 3e-3
    width: int = 16
    attention_kwargs: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        base = f"{self.task}-{self.attention}"
        return base if self.seed == 0 else f"{base}-seed{self.seed}"


def default_recipe(task: str, attention: str, seed: int = 0) -> Recipe:
    """The recipe the book's shipped weights were trained with."""
    _check_choice("task", task, ("classifier", "unet"))
    _check_choice("attention", attention, CLASSIFIER_ATTENTIONS if task == "classifier" else UNET_ATTENTIONS)
    # The small networks use widths 16..128, where r = 16 would leave a single hidden unit.
    kwargs = {"reduction": 4} if attention in ("se", "scse", "cbam", "bam") else {}
    if task == "unet":
        return Recipe(task, attention, seed, image_size=48, train_size=1500, epochs=6, batch_size=32,
                      width=12, attention_kwargs=kwargs)
    return Recipe(task, attention, seed, attention_kwargs=kwargs)


def build_model(recipe: Recipe) -> nn.Module:
    """The untrained network a recipe describes."""
    attention = None if recipe.attention == "none" else recipe.attention
    if recipe.task == "unet":
        return UNet(3, 2, width=recipe.width, depth=3, attention=attention,
                    attention_kwargs=recipe.attention_kwargs)
    # A ResNet-10 (one basic block per stage) with a 3×3 stem: the shapes are a few dozen pixels.
    return ResNet(BasicBlock, (1, 1, 1, 1), len(CLASSES), attention, stem="small", width=recipe.width,
                  attention_kwargs=recipe.attention_kwargs)


def _check_choice(what: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(str, choices))}; got {value!r}")


def _targets(recipe: Recipe, batch) -> Tensor:
    return batch.masks.long() if recipe.task == "unet" else batch.labels


@torch.no_grad()
def evaluate(recipe: Recipe, model: nn.Module, batch, chunk: int = 250) -> float:
    """Accuracy (classifier) or mean foreground Dice (U-Net) on ``batch``."""
    model.eval()
    scores = []
    for i in range(0, len(batch), chunk):
        x, t = batch.images[i:i + chunk], _targets(recipe, batch)[i:i + chunk]
        pred = model(x).argmax(1)
        if recipe.task == "classifier":
            scores.append((pred == t).float())
        else:
            inter = (pred * t).flatten(1).sum(1).float()
            scores.append(2 * inter / (pred.flatten(1).sum(1) + t.flatten(1).sum(1)).clamp(min=1))
    return torch.cat(scores).mean().item()


def train(recipe: Recipe, out_dir: Path | None = WEIGHTS_DIR, progress: bool = True,
          save_weights: bool = True) -> tuple[nn.Module, dict]:
    """Train one model from its recipe; save weights and record to ``out_dir`` (None: don't save).

    ``save_weights=False`` writes the record alone (the extra seeds of the comparison chapter).

    Returns the trained model (eval mode) and its record: the recipe, the validation score,
    timings and the environment.
    """
    torch.manual_seed(recipe.seed)
    started = time.perf_counter()
    # Train and validation sets come from disjoint seeds so that no scene is seen twice.
    train_set = make_shapes(recipe.train_size, recipe.image_size, seed=10_000 + recipe.seed)
    val_set = make_shapes(recipe.val_size, recipe.image_size, seed=20_000)
    model = build_model(recipe)
    steps_per_epoch = recipe.train_size // recipe.batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, recipe.lr, total_steps=recipe.epochs * steps_per_epoch, pct_start=0.2
    )
    generator = torch.Generator().manual_seed(recipe.seed)
    bar = tqdm(total=recipe.epochs * steps_per_epoch, desc=recipe.name, disable=not progress, unit="step")
    targets = _targets(recipe, train_set)
    for _ in range(recipe.epochs):
        model.train()
        order = torch.randperm(recipe.train_size, generator=generator)
        for step in range(steps_per_epoch):
            idx = order[step * recipe.batch_size:(step + 1) * recipe.batch_size]
            x = train_set.images[idx]
            # Random flips: every class is symmetric under them, so labels and masks still hold.
            flip = torch.rand(2, generator=generator) < 0.5
            dims = [d for d, f in zip((2, 3), flip) if f]
            y = targets[idx]
            if dims:
                x = x.flip(dims)
                if recipe.task == "unet":
                    y = y.flip([d - 1 for d in dims])
            loss = F.cross_entropy(model(x), y)  # per image (classifier) or per pixel (U-Net)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    train_seconds = time.perf_counter() - started
    # Weights ship in float16 (half the bytes); the recorded score is the shipped weights' score.
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    score = evaluate(recipe, model, val_set)
    record = {
        "name": recipe.name,
        "recipe": asdict(recipe),
        "metric": "accuracy" if recipe.task == "classifier" else "dice",
        "val_score": round(score, 4),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(train_seconds, 1),
        "command": _command(recipe),
        "environment": {
            "torch": torch.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "machine": platform.machine(),
        },
    }
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if save_weights:
            save_file({k: v.contiguous() for k, v in state.items()}, out_dir / f"{recipe.name}.safetensors",
                      metadata={"recipe": json.dumps(asdict(recipe))})
        (out_dir / f"{recipe.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"{recipe.name}: validation {record['metric']} {score:.3f}, trained in {train_seconds:.0f} s",
          file=sys.stderr, flush=True)
    return model, record


def _command(recipe: Recipe) -> str:
    """The command line that reproduces ``recipe``."""
    command = f"python -m attn_lib.lab.train {recipe.task} --attention {recipe.attention} --seed {recipe.seed}"
    if recipe.epochs != default_recipe(recipe.task, recipe.attention, recipe.seed).epochs:
        command += f" --epochs {recipe.epochs}"
    return command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attn_lib.lab.train", description=__doc__.split("\n\n")[0])
    p.add_argument("task", choices=("classifier", "unet", "all"), help="what to train")
    p.add_argument("--attention", default="none",
                   help=f"classifier: one of {', '.join(CLASSIFIER_ATTENTIONS)}; unet: one of {', '.join(UNET_ATTENTIONS)}")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and batch order")
    p.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for .safetensors and .json")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-weights", action="store_true", help="write the .json record only, not the weights")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.task == "all":
        recipes = [default_recipe("classifier", a, args.seed) for a in CLASSIFIER_ATTENTIONS]
        recipes += [default_recipe("unet", a, args.seed) for a in UNET_ATTENTIONS]
    else:
        choices = CLASSIFIER_ATTENTIONS if args.task == "classifier" else UNET_ATTENTIONS
        if args.attention not in choices:
            parser.error(f"--attention for {args.task} must be one of {', '.join(choices)}; got {args.attention!r}")
        recipes = [default_recipe(args.task, args.attention, args.seed)]
    if args.epochs is not None:
        if args.epochs < 1:
            parser.error(f"--epochs must be a positive integer; got {args.epochs}")
        recipes = [Recipe(**{**asdict(r), "epochs": args.epochs}) for r in recipes]
    for recipe in recipes:
        train(recipe, args.out, progress=not args.quiet, save_weights=not args.no_weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
