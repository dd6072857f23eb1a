"""The lab: its tasks, its protocol (fixed data, controls, gate ablation) and its statistics."""

import dataclasses
import json

import pytest
import torch

import attn_lib
from attn_lib.lab import stats
from attn_lib.lab.ablation import fixed_gates, mean_gates
from attn_lib.lab.records import lab_records, late_gain
from attn_lib.lab.data import CLASSES
from attn_lib.lab.tasks import (
    CUE_COLOURS, MIN_IMAGE_SIZE, SCALE_CLEAR, SCALE_SIZES, TASK_MECHANISMS, TASKS, make_task,
    scale_sweep,
)
from attn_lib.lab.train import (
    LAB_ATTENTIONS, LAB_CONTROLS, LAB_EPOCHS, PLATEAU_DIR, PLATEAU_EPOCHS, PLATEAU_MODELS, _command, build_model,
    datasets, lab_recipe, lab_recipes, main, plateau_recipes, runs_dir, train,
)


# ---------------------------------------------------------------- tasks

@pytest.mark.parametrize("task", TASKS)
def test_every_task_is_deterministic_balanced_and_in_range(task):
    a, b = make_task(task, 60, 64, seed=3), make_task(task, 60, 64, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.images.shape == (60, 3, 64, 64) and 0 <= a.images.min() and a.images.max() <= 1
    assert a.labels.bincount(minlength=len(CLASSES)).min() >= 6
    assert a.masks.flatten(1).any(1).all(), "every image shows the object its label names"
    assert not torch.equal(a.images, make_task(task, 60, 64, seed=4).images)


def test_cued_task_labels_the_shape_whose_colour_the_frame_gives():
    batch = make_task("cued", 200, 48, seed=1)
    assert batch.cues is not None and set(batch.cues.tolist()) == {0, 1, 2}
    frame = batch.images[:, :, 0, :].mean(-1)  # top row: the frame's colour
    assert torch.equal(frame.argmax(1), batch.cues), "the frame's dominant channel is the cue"
    # The target object's pixels are of the cue's colour family.
    for i in range(20):
        pixels = batch.images[i][:, batch.masks[i]]
        assert pixels.mean(1).argmax().item() == batch.cues[i].item()
    assert len(CUE_COLOURS) == 3


def test_cued_task_cannot_be_read_without_the_cue():
    """Each image holds three different shapes; the label is one of them, chosen by the cue, so a
    network that ignores the frame is right at most one time in three on average."""
    batch = make_task("cued", 300, 48, seed=2)
    per_family = []
    for family in range(3):
        pixels = batch.images.permute(0, 2, 3, 1)
        per_family.append((pixels.argmax(-1) == family).flatten(1).sum(1))
    assert (torch.stack(per_family, 1) > 20).all(), "all three colour families appear in every image"


def test_spotlight_objects_are_small():
    batch = make_task("spotlight", 100, 64, seed=0)
    assert batch.masks.float().mean() < 0.08


def test_scale_sweep_changes_the_size_and_nothing_of_the_clutter():
    sweep = scale_sweep("cross", [SCALE_SIZES[0], 0.4, SCALE_SIZES[1]], seed=5, image_size=64)
    s = 64
    yy, xx = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
    centre = sweep.centers[0]
    outside = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 > (SCALE_CLEAR * s + 1) ** 2
    for i in range(1, 3):
        assert torch.equal(sweep.images[i][:, outside], sweep.images[0][:, outside])
    assert sweep.masks[0].sum() < sweep.masks[1].sum() < sweep.masks[2].sum()


@pytest.mark.parametrize("call, message", [
    (lambda: make_task("gaze", 10), "unknown task 'gaze'; expected one of: shapes, cued"),
    (lambda: make_task("cued", 0), "n must be >= 1, got 0"),
    (lambda: make_task("cued", -5), "n must be >= 1, got -5"),
    (lambda: make_task("spotlight", 10, 16), "task 'spotlight' needs image_size >= 24 px, got 16"),
    (lambda: make_task("cued", 10, 48.0), "image_size must be an int"),
    (lambda: make_task("cued", 10, 48, seed=-1), "seed must be >= 0"),
    (lambda: scale_sweep("cross", [0.95]), "within the scale task's training range"),
    (lambda: scale_sweep("hexagon", [0.3]), "unknown class 'hexagon'"),
])
def test_bad_task_arguments_name_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_min_image_sizes_are_drawable():
    for task, size in MIN_IMAGE_SIZE.items():
        assert make_task(task, 5, size, seed=0).images.shape[-1] == size


# ---------------------------------------------------------------- protocol

def test_every_seed_trains_on_the_same_data():
    # Fewer images than the recipe's: which images is decided by the seeds, not the counts.
    a, b = (dataclasses.replace(lab_recipe("cued", "se", seed=s), train_size=64, val_size=32)
            for s in (0, 3))
    (train_a, val_a), (train_b, val_b) = datasets(a), datasets(b)
    assert torch.equal(train_a.images, train_b.images) and torch.equal(val_a.images, val_b.images)
    assert a.data_seed == b.data_seed and a.seed != b.seed


def test_the_protocol_covers_the_seven_mechanisms_none_and_controls_over_five_seeds():
    names = {(r.dataset, r.attention, r.seed) for r in lab_recipes() if r.task == "classifier"}
    # sk-fixed on the scale task only; Part II's eight on the cued and spotlight tasks
    assert len(names) == 3 * 9 * 5 + 5 + 2 * 8 * 5
    unets = {(r.dataset, r.attention, r.seed) for r in lab_recipes() if r.task == "unet"}
    assert unets == {("spotlight", a, s) for a in ("none", "se", "sse", "scse", "none-wide")
                     for s in range(5)}
    # The seven mechanisms of the notes and Part II's: every registered mechanism.
    assert set(LAB_ATTENTIONS) == {"none", *attn_lib.MECHANISMS}
    assert set(LAB_CONTROLS) == {"none-wide", "sk-fixed"}


def test_controls_match_what_they_control_for():
    count = lambda a: sum(p.numel() for p in build_model(lab_recipe("cued", a)).parameters())  # noqa: E731
    largest = max(count(a) for a in LAB_ATTENTIONS)
    assert count("none-wide") >= largest, "the wide control has at least every attention model's parameters"
    fixed = build_model(lab_recipe("cued", "sk-fixed"))
    assert not attn_lib.attention_modules(fixed)[0][1].attention(torch.randn(2, 16, 8, 8))
    assert count("sk-fixed") < count("sk"), "the fixed mix has the branches and not the selection"
    unet = lambda a: sum(p.numel() for p in build_model(  # noqa: E731
        lab_recipe("spotlight", a, model="unet")).parameters())
    assert unet("none-wide") >= max(unet(a) for a in ("none", "se", "sse", "scse"))


def test_a_lab_run_writes_its_recipe_scores_and_gate_ablation(tmp_path):
    recipe = dataclasses.replace(lab_recipe("cued", "se", seed=1), train_size=128, val_size=40,
                                 epochs=1)
    _, record = train(recipe, tmp_path, progress=False, save_weights=False)
    saved = json.loads((tmp_path / f"{recipe.name}.json").read_text())
    assert saved == record
    assert {"dataset", "attention", "seed", "data_seed", "attention_kwargs"} <= set(record["recipe"])
    assert record["recipe"]["data_seed"] == 10_000 and record["recipe"]["seed"] == 1
    assert 0 <= record["val_score_mean_gates"] <= 1 and record["train_seconds"] > 0
    assert not list(tmp_path.glob("*.safetensors"))
    # The learning curve: one validation score and one mean training loss per epoch.
    assert len(record["curve"]["val_score"]) == len(record["curve"]["train_loss"]) == 1
    assert 0 <= record["curve"]["val_score"][0] <= 1 and record["curve"]["train_loss"][0] > 0


def test_plateau_recipes_differ_from_the_early_ones_by_their_epochs_alone():
    early, long = lab_recipe("spotlight", "cbam", 3), lab_recipe("spotlight", "cbam", 3, epochs=PLATEAU_EPOCHS)
    assert dataclasses.replace(long, epochs=LAB_EPOCHS) == early
    assert long.name == "spotlight-classifier-cbam-seed3-18ep" and early.name == "spotlight-classifier-cbam-seed3"
    assert runs_dir(long) == PLATEAU_DIR / "spotlight" and runs_dir(early).name == "spotlight"
    assert _command(long).endswith("--seed 3 --epochs 18") and "--epochs" not in _command(early)
    planned = plateau_recipes((0,))
    assert {(r.dataset, r.attention) for r in planned} == {
        (task, a) for task in ("cued", "spotlight") for a in PLATEAU_MODELS[task]}
    for task, models in PLATEAU_MODELS.items():  # no attention and what the task is for
        assert models[0] == "none" and set(models[1:]) <= set(TASK_MECHANISMS[task])
    assert all(r.epochs == PLATEAU_EPOCHS for r in planned)
    with pytest.raises(ValueError, match="epochs must be a positive integer; got 0"):
        lab_recipe("cued", "se", epochs=0)


def test_late_gain_reads_the_end_of_each_curve():
    runs = [{"name": f"run{i}", "curve": {"val_score": [0.2, 0.5, 0.8, 0.9, 0.9 + i / 100, 0.92 + i / 100]}}
            for i in range(3)]
    gain = late_gain(runs, fraction=1 / 3)  # the last 2 of 6 epochs: 0.92 + i/100 − 0.9
    assert gain.mean == pytest.approx(0.03) and gain.n == (3,)
    with pytest.raises(ValueError, match="has no learning curve"):
        late_gain([{"name": "old", "val_score": 0.5}, *runs])


def test_a_lab_unet_run_is_scored_by_dice_with_its_gate_ablation(tmp_path):
    recipe = dataclasses.replace(lab_recipe("spotlight", "scse", seed=2, model="unet"),
                                 train_size=64, val_size=16, epochs=1)
    _, record = train(recipe, tmp_path / "spotlight", progress=False, save_weights=False)
    assert record["name"] == "spotlight-unet-scse-seed2-1ep" and record["metric"] == "dice"
    assert 0 <= record["val_score_mean_gates"] <= 1
    assert "--model unet" in record["command"]
    found = lab_records("spotlight", tmp_path, model="unet")
    assert list(found) == ["scse"] and lab_records("spotlight", tmp_path) == {}


@pytest.mark.parametrize("argv, message", [
    (["lab", "--dataset", "faces", "--attention", "se"], "--dataset must be one of shapes, cued"),
    (["lab", "--dataset", "cued", "--attention", "vit"], "--attention for lab --model classifier must be one of none, se"),
    (["lab", "--dataset", "cued", "--seed", "-1"], "--seed must be non-negative"),
    (["sweep", "--datasets", "faces"], "--datasets must be among shapes, cued"),
    (["lab", "--dataset", "cued", "--model", "unet"], "--model unet trains on spotlight only"),
    (["lab", "--dataset", "spotlight", "--model", "unet", "--attention", "cbam"],
     "--attention for lab --model unet must be one of none, se, sse, scse, none-wide"),
    (["sweep", "--jobs", "0"], "--jobs must be a positive integer"),
])
def test_bad_lab_arguments_exit_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- gate ablation

@pytest.mark.parametrize("name", [a for a in LAB_ATTENTIONS if a != "none"])
def test_fixed_gates_apply_the_mean_gate_by_each_modules_equation(name):
    """With a batch of one image, the mean gate is that image's gate: the output must not change."""
    torch.manual_seed(0)
    model = build_model(lab_recipe("cued", name)).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        with fixed_gates(model, mean_gates(model, x)):
            got = model(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_fixed_gates_remove_the_per_image_gate():
    torch.manual_seed(0)
    model = build_model(lab_recipe("cued", "se")).eval()
    x = torch.rand(4, 3, 64, 64)
    means = mean_gates(model, x)
    with torch.no_grad():
        free = model(x)
        with fixed_gates(model, means):
            fixed = model(x)
        again = model(x)
    assert not torch.allclose(free, fixed), "a per-image gate differs from the batch mean"
    torch.testing.assert_close(again, free)  # the hooks are gone after the block


# ---------------------------------------------------------------- statistics

def test_mean_ci_matches_a_t_interval_computed_by_hand():
    ci = stats.mean_ci([0.80, 0.82, 0.84, 0.86, 0.88])
    # mean 0.84, s = 0.0316, t(0.975, 4) = 2.776: half-width 0.0393
    assert ci.mean == pytest.approx(0.84) and ci.high - ci.mean == pytest.approx(0.0393, abs=1e-4)


def test_welch_p_value_agrees_with_the_interval_and_holm_with_its_definition():
    a, b = [0.80, 0.82, 0.79, 0.81, 0.83], [0.75, 0.76, 0.74, 0.77, 0.76]
    close = [0.76, 0.74, 0.78, 0.75, 0.77]
    for x in (a, close):
        p = stats.welch_p_value(x, b)
        assert (p < 0.05) == stats.welch_difference(x, b).excludes_zero
    # No spread in either group: no estimate of the noise, so no verdict.
    assert stats.welch_p_value([0.992, 0.992], [0.987, 0.987]) == 1.0
    # Holm: sorted p times (m - rank), made monotone: 0.01·4, 0.03·3, max(0.04·2, 0.09), 0.5·1
    assert stats.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])


def test_welch_difference_and_verdict():
    clear = stats.welch_difference([0.90, 0.91, 0.92, 0.91, 0.90], [0.80, 0.81, 0.79, 0.80, 0.82])
    assert clear.excludes_zero and stats.verdict(clear) == "gain"
    noisy = stats.welch_difference([0.90, 0.70, 0.85, 0.75, 0.80], [0.80, 0.78, 0.82, 0.79, 0.81])
    assert not noisy.excludes_zero and stats.verdict(noisy) == "no measurable difference"
    assert stats.verdict(stats.welch_difference([0.1, 0.12], [0.5, 0.52])) == "loss"
    with pytest.raises(ValueError, match="at least 2 scores"):
        stats.mean_ci([0.5])


# ---------------------------------------------------------------- what gates mean, figures

def test_gate_spread_separates_group_dependent_gates_from_constant_ones():
    from attn_lib.lab.meaning import gate_spread

    torch.manual_seed(0)
    groups = torch.arange(60) % 3
    noise = 0.01 * torch.randn(60, 8)
    by_group = torch.eye(3)[groups].repeat(1, 3)[:, :8] * 0.5 + 0.25 + noise
    constant = 0.5 + noise
    assert gate_spread(by_group, groups) > 10 > 1 > gate_spread(constant, groups)
    with pytest.raises(ValueError, match="two groups"):
        gate_spread(constant, torch.zeros(60, dtype=torch.long))


def test_grad_cam_is_on_zero_one_and_marks_what_the_score_reads():
    from attn_lib.lab.attribution import grad_cam

    # A "network" whose score for class 0 is the mean of the top-left quadrant of channel 0.
    class TopLeft(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Conv2d(3, 3, 1)  # the identity, as a layer with weights
            with torch.no_grad():
                self.features.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
                self.features.bias.zero_()

        def forward(self, x):
            f = self.features(x)
            top_left = f[:, 0, :8, :8].mean((1, 2))
            return torch.stack([top_left, torch.zeros_like(top_left)], 1)

    # Channel 0 is lit in the top-left quadrant only: the feature the score reads is there.
    images = torch.zeros(2, 3, 16, 16)
    images[:, 0, :8, :8] = 0.5 + torch.rand(2, 8, 8)
    images[:, 1] = torch.rand(2, 16, 16)  # a channel the score ignores
    cam = grad_cam(TopLeft(), images, "features", target=torch.tensor([0, 0]))
    assert cam.shape == (2, 16, 16) and cam.min() >= 0 and cam.max() <= 1
    assert cam[:, :6, :6].mean() > 0.5 > 0.05 > cam[:, 10:, 10:].mean()
    with pytest.raises(ValueError, match="no layer 'nope'"):
        grad_cam(TopLeft(), torch.rand(1, 3, 16, 16), "nope")


def test_lab_figures_draw_on_lab_models():
    from attn_lib import viz

    torch.manual_seed(0)
    batch = make_task("cued", 12, 64, seed=0)
    se = build_model(lab_recipe("cued", "se")).eval()
    fig = viz.channel_heatmap_figure(se, batch.images, batch.cues, CUE_COLOURS, by="cue")
    assert len(fig.axes) == 4 + 1  # four layers and a colorbar
    cbam = build_model(lab_recipe("spotlight", "cbam")).eval()
    spot = make_task("spotlight", 2, 64, seed=0)
    layer = attn_lib.attention_modules(cbam)[0][0]
    assert viz.gate_and_gradcam_figure(cbam, spot.images, spot.masks, layer, "stages.1") is not None
    assert viz.spatial_maps_figure(cbam, spot.images, masks=spot.masks) is not None
    with pytest.raises(ValueError, match="masks must be"):
        viz.spatial_maps_figure(cbam, spot.images, masks=spot.masks[:1])
    with pytest.raises(ValueError, match="groups must be"):
        viz.channel_heatmap_figure(se, batch.images, batch.cues[:3], CUE_COLOURS)
