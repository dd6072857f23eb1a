"""Train the book's small models on the generated shapes data, on the CPU.

    python -m attn_lib.lab.train classifier --attention se      # one classifier
    python -m attn_lib.lab.train unet --attention scse          # one U-Net (or --attention none)
    python -m attn_lib.lab.train all                            # every model the book ships
    python -m attn_lib.lab.train sweep --jobs 2                 # every lab record (see below)

Each run writes ``<name>.safetensors`` (the weights, never a pickle) and ``<name>.json`` (the
recipe, the command, the environment and the scores) into ``--out`` (default: the package's own
``weights/`` folder). :func:`attn_lib.lab.pretrained.load` rebuilds a model from that record.

The lab's protocol (``sweep``): on each task of :mod:`attn_lib.lab.tasks`, no attention, the
seven mechanisms of the notes and the controls (a wider network without attention whose
parameter count reaches the largest attention model's; SK with its branches summed instead of
selected), each over seeds 0-4. The seed sets the initialisation and the batch order; the
training and validation sets are the same for every seed (``data_seed``), so seed spread is
not data spread. Each record holds the recipe, the validation score, the score with every
gate replaced by its validation mean (:mod:`attn_lib.lab.ablation`), and the training time.
Seed 0's weights are kept as float16 safetensors; the other seeds keep their record only.

Every record also holds its learning curve: the validation score after each epoch (float32
weights, so the last point can differ from ``val_score`` by the float16 rounding) and the mean
training loss of each epoch. The lab trains at two budgets: ``LAB_EPOCHS`` (6 epochs, 276
optimiser steps: how fast a network learns) and ``PLATEAU_EPOCHS`` (three times as many:
where it ends up). Plateau records live in ``runs/plateau/<task>/``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..models import ResNet, UNet
from ..models.resnet import BasicBlock
from ..sk import SelectiveKernel
from .data import CLASSES, make_shapes
from .tasks import TASK_MECHANISMS, TASKS, make_task

__all__ = [
    "Recipe", "CLASSIFIER_ATTENTIONS", "UNET_ATTENTIONS", "LAB_ATTENTIONS", "LAB_CONTROLS", "LAB_SEEDS",
    "LAB_EPOCHS", "LAB_SHIPPED", "LAB_UNET_ATTENTIONS", "LAB_UNET_MODELS", "LAB_UNET_TASKS",
    "PART2_ATTENTIONS", "PART2_TASKS", "PLATEAU_DIR", "PLATEAU_EPOCHS", "PLATEAU_MODELS", "PLATEAU_TASKS",
    "build_model", "datasets", "validation_set", "lab_recipe", "lab_recipes", "plateau_recipes", "runs_dir",
    "sweep", "train", "main",
]

WEIGHTS_DIR = Path(__file__).parent / "weights"
RUNS_DIR = Path(__file__).parent / "runs"
PLATEAU_DIR = RUNS_DIR / "plateau"
LAB_EPOCHS = 6  # the early budget: 6 × 46 = 276 optimiser steps
PLATEAU_EPOCHS = 18  # three times the steps: see the lab chapter for the plateau criterion
# What the plateau runs train, on the cued and spotlight tasks: no attention and three of the
# mechanisms each task is designed for, few enough that every model gets several seeds on two
# cores: SE (the book's first mechanism), CBAM (designed
# for both tasks), SRM (the largest early gain on cued), sSE (the simplest spatial gate), BAM.
PLATEAU_MODELS = {"cued": ("none", "se", "cbam", "srm"), "spotlight": ("none", "sse", "cbam", "bam")}
PLATEAU_TASKS = tuple(PLATEAU_MODELS)
CLASSIFIER_ATTENTIONS = ("none", "se", "sse", "scse", "cbam", "bam", "sk", "eca")
UNET_ATTENTIONS = ("none", "scse")
# The lab's classifiers: no attention, the seven mechanisms of the notes, Part II's, and two
# controls. Part II's mechanisms train on the tasks their chapters use (PART2_TASKS).
PART2_ATTENTIONS = ("ge", "srm", "fca", "coord", "triplet", "simam", "nonlocal", "gc")
PART2_TASKS = ("cued", "spotlight")
LAB_ATTENTIONS = CLASSIFIER_ATTENTIONS + PART2_ATTENTIONS
REDUCED = ("se", "scse", "cbam", "bam", "fca", "gc")  # r = 4 in the lab (see lab_recipe)
LAB_CONTROLS = ("none-wide", "sk-fixed")
# The lab's U-Nets, on the spotlight task: Roy et al.'s three SE variants and no attention
# (with the wider no-attention control).
LAB_UNET_ATTENTIONS = ("none", "se", "sse", "scse")
LAB_UNET_MODELS = LAB_UNET_ATTENTIONS + ("none-wide",)  # what the U-Net sweep trains
LAB_UNET_TASKS = ("spotlight",)
LAB_SEEDS = (0, 1, 2, 3, 4)
LAB_DATA_SEED = 10_000
# The lab's seed-0 models that the book's pages load, shipped in weights/ beside the first ones.
LAB_SHIPPED = (
    "cued-classifier-se-seed0", "cued-classifier-eca-seed0", "cued-classifier-cbam-seed0",
    "spotlight-classifier-sse-seed0", "spotlight-classifier-scse-seed0",
    "spotlight-classifier-cbam-seed0", "spotlight-classifier-bam-seed0",
    "scale-classifier-sk-seed0",
    "spotlight-unet-sse-seed0", "spotlight-unet-scse-seed0",
    # Part II
    "cued-classifier-ge-seed0", "cued-classifier-srm-seed0", "cued-classifier-fca-seed0",
    "spotlight-classifier-coord-seed0",
    *(f"{task}-classifier-{a}-seed0" for task in PART2_TASKS for a in ("triplet", "simam", "nonlocal", "gc")),
)
VAL_SEED = 20_000


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a trained model: architecture, data and optimisation."""

    task: str  # "classifier" or "unet"
    attention: str  # a registered name, "none", or a control: "none-wide", "sk-fixed"
    seed: int = 0  # initialisation and batch order
    image_size: int = 48
    train_size: int = 4000
    val_size: int = 1000
    epochs: int = 6
    batch_size: int = 64
    lr: float = 3e-3
    width: int = 16
    attention_kwargs: dict = field(default_factory=dict)
    # Which images: "shapes" or a task of attn_lib.lab.tasks; the training set's seed (None:
    # 10_000 + seed, as the first shipped models were trained, so their data varied by seed).
    dataset: str = "shapes"
    data_seed: int | None = None
    stem: str = "small"  # "small": 3×3 stride 1; "strided": 3×3 stride 2 (4× less compute)

    @property
    def name(self) -> str:
        if self.dataset == "shapes" and self.data_seed is None:  # the first shipped models
            base = f"{self.task}-{self.attention}"
            return base if self.seed == 0 else f"{base}-seed{self.seed}"
        budget = "" if self.epochs == LAB_EPOCHS else f"-{self.epochs}ep"
        return f"{self.dataset}-{self.task}-{self.attention}-seed{self.seed}{budget}"

    @property
    def training_seed(self) -> int:
        return 10_000 + self.seed if self.data_seed is None else self.data_seed


def default_recipe(task: str, attention: str, seed: int = 0) -> Recipe:
    """The recipe the book's shipped weights were trained with."""
    _check_choice("task", task, ("classifier", "unet"))
    _check_choice("attention", attention, CLASSIFIER_ATTENTIONS if task == "classifier" else UNET_ATTENTIONS)
    # The small networks use widths 16..128, where r = 16 would leave a single hidden unit.
    kwargs = {"reduction": 4} if attention in REDUCED else {}
    if task == "unet":
        return Recipe(task, attention, seed, image_size=48, train_size=1500, epochs=6, batch_size=32,
                      width=12, attention_kwargs=kwargs)
    return Recipe(task, attention, seed, attention_kwargs=kwargs)


class FixedMixSK(SelectiveKernel):
    """The control for SK: the same branches, summed (V = Σ_m U_m) instead of selected."""

    def forward_with_attention(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        v = self.branches[0](x)
        for branch in self.branches[1:]:
            v = v + branch(x)
        return v, {}


def lab_recipe(dataset: str, attention: str, seed: int = 0, model: str = "classifier",
               epochs: int = LAB_EPOCHS) -> Recipe:
    """The lab's recipe for ``model`` ("classifier" or "unet") on ``dataset``, trained for
    ``epochs`` (the early budget by default; :data:`PLATEAU_EPOCHS` for the plateau).

    Classifier: a ResNet-10 of width 16 with a strided stem, 64-px images, 3000 training
    images for 6 epochs (18 for the plateau). U-Net (spotlight only): depth 3, width 12,
    64-px images, 1500 training images for 6 epochs, batch 32. Reduction r = 4 for SE, scSE,
    CBAM, BAM, FCA and GC (at widths 12-128, r = 16 would leave 1-8 hidden units);
    Coordinate Attention keeps its authors' code's max(8, C/32) hidden channels, 8 at these
    widths; the non-local block its paper's C/2.
    """
    _check_choice("model", model, ("classifier", "unet"))
    _check_choice("dataset", dataset, TASKS if model == "classifier" else LAB_UNET_TASKS)
    names = LAB_ATTENTIONS + LAB_CONTROLS if model == "classifier" else LAB_UNET_MODELS
    _check_choice("attention", attention, names)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    kwargs = {"reduction": 4} if attention in REDUCED else {}
    if model == "unet":
        width = _wide_width("unet") if attention == "none-wide" else 12
        return Recipe("unet", attention, seed, image_size=64, train_size=1500, epochs=epochs,
                      batch_size=32, width=width, attention_kwargs=kwargs, dataset=dataset,
                      data_seed=LAB_DATA_SEED)
    width = _wide_width() if attention == "none-wide" else 16
    return Recipe("classifier", attention, seed, image_size=64, train_size=3000, epochs=epochs,
                  width=width, attention_kwargs=kwargs, dataset=dataset,
                  data_seed=LAB_DATA_SEED, stem="strided")


def _parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@lru_cache(maxsize=None)
def _wide_width(model: str = "classifier") -> int:
    """Width of the no-attention control: the first whose parameter count reaches the largest
    attention model's at the lab's width (SK's for the classifier, scSE's for the U-Net).
    Only the notes' seven mechanisms set it, so that adding mechanisms never changes it."""
    if model == "unet":
        target = max(_parameters(build_model(lab_recipe("spotlight", a, model="unet")))
                     for a in LAB_UNET_ATTENTIONS)
        width = 12
        while _parameters(UNet(3, 2, width=width, depth=3)) < target:
            width += 1
        return width
    target = max(_parameters(build_model(lab_recipe("shapes", a))) for a in CLASSIFIER_ATTENTIONS)
    width = 16
    while _parameters(ResNet(BasicBlock, (1, 1, 1, 1), len(CLASSES), None, stem="small",
                             width=width)) < target:
        width += 1
    return width


def build_model(recipe: Recipe) -> nn.Module:
    """The untrained network a recipe describes."""
    if recipe.task == "unet":
        attention = None if recipe.attention in ("none", "none-wide") else recipe.attention
        return UNet(3, 2, width=recipe.width, depth=3, attention=attention,
                    attention_kwargs=recipe.attention_kwargs)
    attention = {"none": None, "none-wide": None, "sk-fixed": "sk"}.get(recipe.attention, recipe.attention)
    # A ResNet-10 (one basic block per stage) with a 3×3 stem: the shapes are a few dozen pixels.
    model = ResNet(BasicBlock, (1, 1, 1, 1), len(CLASSES), attention, stem="small", width=recipe.width,
                   attention_kwargs=recipe.attention_kwargs)
    if recipe.stem == "strided":
        model.stem[0].stride = (2, 2)
    if recipe.attention == "sk-fixed":
        for module in model.modules():
            if isinstance(module, SelectiveKernel):
                module.__class__ = FixedMixSK
                # The selection layers are unused: drop them so the parameter count is honest.
                del module.squeeze, module.select
    return model


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
    the learning curve (validation score and mean training loss after each epoch), timings
    and the environment.
    """
    torch.manual_seed(recipe.seed)
    started = time.perf_counter()
    # Train and validation sets come from disjoint seeds so that no scene is seen twice.
    train_set, val_set = datasets(recipe)
    model = build_model(recipe)
    steps_per_epoch = recipe.train_size // recipe.batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, recipe.lr, total_steps=recipe.epochs * steps_per_epoch, pct_start=0.2
    )
    generator = torch.Generator().manual_seed(recipe.seed)
    bar = tqdm(total=recipe.epochs * steps_per_epoch, desc=recipe.name, disable=not progress, unit="step")
    targets = _targets(recipe, train_set)
    curve = {"val_score": [], "train_loss": []}
    for _ in range(recipe.epochs):
        model.train()
        losses = []
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
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        curve["train_loss"].append(round(sum(losses) / len(losses), 4))
        curve["val_score"].append(round(evaluate(recipe, model, val_set), 4))
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
        **_ablation(recipe, model, val_set),
        "curve": curve,
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


def datasets(recipe: Recipe):
    """(training set, validation set) of a recipe; the validation set is the same for every
    recipe of a dataset."""
    return _make(recipe, recipe.train_size, recipe.training_seed), validation_set(recipe)


def validation_set(recipe: Recipe):
    """The validation set of a recipe alone (scoring a trained model needs no training set)."""
    return _make(recipe, recipe.val_size, VAL_SEED)


def _make(recipe: Recipe, n: int, seed: int):
    if recipe.dataset == "shapes" and recipe.data_seed is None:
        return make_shapes(n, recipe.image_size, seed)
    return make_task(recipe.dataset, n, recipe.image_size, seed)


def _ablation(recipe: Recipe, model: nn.Module, val_set) -> dict:
    """The validation score with every gate fixed at its validation mean (lab recipes only)."""
    if recipe.data_seed is None:
        return {}
    from .._base import attention_modules
    from .ablation import fixed_gates, mean_gates

    if not attention_modules(model) or recipe.attention == "sk-fixed":
        return {}
    means = mean_gates(model, val_set.images)
    with fixed_gates(model, means):
        fixed = evaluate(recipe, model, val_set)
    return {"val_score_mean_gates": round(fixed, 4)}


def lab_recipes(datasets_=TASKS[1:], seeds=LAB_SEEDS) -> list[Recipe]:
    """Every recipe of the lab's protocol, in the order the sweep trains them."""
    # The fixed mix controls SK's selection, which the scale task is for.
    recipes = [lab_recipe(d, a, s) for s in seeds for d in datasets_ for a in LAB_ATTENTIONS + LAB_CONTROLS
               if (a != "sk-fixed" or d == "scale") and (a not in PART2_ATTENTIONS or d in PART2_TASKS)]
    recipes += [lab_recipe(d, a, s, model="unet") for s in seeds for d in datasets_
                if d in LAB_UNET_TASKS for a in LAB_UNET_MODELS]
    # First what each task is designed for, with its baselines, over every seed; then the rest.
    def designed(r: Recipe) -> bool:
        return r.task == "classifier" and r.attention in (
            "none", "none-wide", "sk-fixed", *TASK_MECHANISMS[r.dataset])

    return sorted(recipes, key=lambda r: not designed(r))  # stable: seed order kept


def runs_dir(recipe: Recipe) -> Path:
    """Where a lab recipe's record goes: ``runs/<task>/``, or ``runs/plateau/<task>/``."""
    return (RUNS_DIR if recipe.epochs == LAB_EPOCHS else PLATEAU_DIR) / recipe.dataset


def plateau_recipes(seeds=LAB_SEEDS) -> list[Recipe]:
    """The plateau runs, in the order they are trained: for each seed, the models of
    :data:`PLATEAU_MODELS` on each of its tasks."""
    return [lab_recipe(d, a, s, epochs=PLATEAU_EPOCHS) for s in seeds for d in PLATEAU_TASKS
            for a in PLATEAU_MODELS[d]]


def _sweep_one(recipe: Recipe) -> str:
    torch.set_num_threads(1)
    train(recipe, runs_dir(recipe), progress=False, save_weights=recipe.seed == 0)
    return recipe.name


def sweep(datasets_=TASKS[1:], seeds=LAB_SEEDS, jobs: int = 1, force: bool = False,
          plateau: bool = False) -> list[str]:
    """Train every lab recipe whose record is missing (all with ``force``); ``jobs`` processes,
    one thread each; ``plateau``: the plateau runs (:func:`plateau_recipes`) instead of the
    early-budget protocol. Returns the names trained."""
    recipes = ([r for r in plateau_recipes(seeds) if r.dataset in datasets_] if plateau
               else lab_recipes(datasets_, seeds))
    todo = [r for r in recipes if force or not (runs_dir(r) / f"{r.name}.json").exists()]
    if jobs <= 1:
        return [_sweep_one(r) for r in todo]
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        return list(pool.imap_unordered(_sweep_one, todo))


def _command(recipe: Recipe) -> str:
    """The command line that reproduces ``recipe``."""
    if recipe.data_seed is not None:
        unet = " --model unet" if recipe.task == "unet" else ""
        epochs = "" if recipe.epochs == LAB_EPOCHS else f" --epochs {recipe.epochs}"
        return (f"python -m attn_lib.lab.train lab --dataset {recipe.dataset}{unet} "
                f"--attention {recipe.attention} --seed {recipe.seed}{epochs}")
    command = f"python -m attn_lib.lab.train {recipe.task} --attention {recipe.attention} --seed {recipe.seed}"
    if recipe.epochs != default_recipe(recipe.task, recipe.attention, recipe.seed).epochs:
        command += f" --epochs {recipe.epochs}"
    return command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attn_lib.lab.train", description=__doc__.split("\n\n")[0])
    p.add_argument("task", choices=("classifier", "unet", "all", "lab", "sweep"),
                   help="what to train: a shipped model of the first chapters, all of them, one lab "
                        "recipe, or the lab's whole protocol")
    p.add_argument("--dataset", default=None, help=f"lab task, one of {', '.join(TASKS)}")
    p.add_argument("--model", choices=("classifier", "unet"), default="classifier",
                   help=f"lab: the network (unet: on {', '.join(LAB_UNET_TASKS)} only)")
    p.add_argument("--datasets", nargs="+", default=None, help="sweep: lab tasks (default: all but shapes)")
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="sweep: seeds (default 0-4)")
    p.add_argument("--jobs", type=int, default=1, help="sweep: parallel processes, one thread each")
    p.add_argument("--force", action="store_true", help="sweep: retrain runs that have a record")
    p.add_argument("--plateau", action="store_true",
                   help=f"sweep: the plateau runs ({PLATEAU_EPOCHS} epochs; PLATEAU_MODELS) instead of the "
                        "early-budget protocol")
    p.add_argument("--attention", default="none",
                   help=f"classifier: one of {', '.join(CLASSIFIER_ATTENTIONS)}; unet: one of {', '.join(UNET_ATTENTIONS)}")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and batch order")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"override the recipe's epochs (lab: {LAB_EPOCHS}, the early budget; "
                        f"{PLATEAU_EPOCHS} for the plateau)")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="folder for .safetensors and .json")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-weights", action="store_true", help="write the .json record only, not the weights")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be a positive integer; got {args.epochs}")
    if args.task == "sweep":
        chosen = tuple(args.datasets or TASKS[1:])
        for d in chosen:
            if d not in TASKS:
                parser.error(f"--datasets must be among {', '.join(TASKS)}; got {d!r}")
        if args.jobs < 1:
            parser.error(f"--jobs must be a positive integer; got {args.jobs}")
        seeds = tuple(args.seeds) if args.seeds else LAB_SEEDS
        if any(s < 0 for s in seeds):
            parser.error(f"--seeds must be non-negative; got {list(seeds)}")
        sweep(chosen, seeds, args.jobs, args.force, plateau=args.plateau)
        return 0
    if args.task == "lab":
        if args.dataset not in TASKS:
            parser.error(f"--dataset must be one of {', '.join(TASKS)}; got {args.dataset!r}")
        if args.model == "unet" and args.dataset not in LAB_UNET_TASKS:
            parser.error(f"--model unet trains on {', '.join(LAB_UNET_TASKS)} only; got {args.dataset!r}")
        names = (LAB_ATTENTIONS + LAB_CONTROLS if args.model == "classifier"
                 else LAB_UNET_MODELS)
        if args.attention not in names:
            parser.error(f"--attention for lab --model {args.model} must be one of {', '.join(names)}; "
                         f"got {args.attention!r}")
        if args.seed < 0:
            parser.error(f"--seed must be non-negative; got {args.seed}")
        recipe = lab_recipe(args.dataset, args.attention, args.seed, args.model,
                            epochs=args.epochs or LAB_EPOCHS)
        out = args.out if args.out != WEIGHTS_DIR else runs_dir(recipe)
        train(recipe, out, progress=not args.quiet, save_weights=not args.no_weights)
        return 0
    if args.task == "all":
        recipes = [default_recipe("classifier", a, args.seed) for a in CLASSIFIER_ATTENTIONS]
        recipes += [default_recipe("unet", a, args.seed) for a in UNET_ATTENTIONS]
    else:
        choices = CLASSIFIER_ATTENTIONS if args.task == "classifier" else UNET_ATTENTIONS
        if args.attention not in choices:
            parser.error(f"--attention for {args.task} must be one of {', '.join(choices)}; got {args.attention!r}")
        recipes = [default_recipe(args.task, args.attention, args.seed)]
    if args.epochs is not None:
        recipes = [Recipe(**{**asdict(r), "epochs": args.epochs}) for r in recipes]
    for recipe in recipes:
        train(recipe, args.out, progress=not args.quiet, save_weights=not args.no_weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
