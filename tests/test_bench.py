"""The benchmark runs end to end, and its baselines compute exactly what the library computes.

No timing is asserted: the numbers depend on the machine. What is checked is that the JSON has
every module, mode and shape asked for, that every ratio is a positive finite number, and that
each straightforward baseline is numerically the library module it is compared with.
"""

import json
import math
import subprocess
import sys

import pytest
import torch

from attn_lib.bench.baselines import CASES, baseline_module, check_baseline, library_module
from attn_lib.bench.resnet50 import PAPER_RESNET50
from attn_lib.bench.timing import BATCH, MODES
from attn_lib.lab.records import seed_results


@pytest.mark.parametrize("case", CASES)
def test_baseline_computes_what_the_library_computes(case):
    library = library_module(case, 64)
    baseline = baseline_module(case, library)
    x = torch.randn(3, 64, 9, 7)
    check_baseline(case, library, baseline, x)  # raises AssertionError on any difference


@pytest.mark.parametrize("case", ["se", "cbam", "sk"])
def test_baseline_check_catches_a_wrong_weight(case):
    library = library_module(case, 64)
    baseline = baseline_module(case, library)
    with torch.no_grad():
        weight = next(p for name, p in baseline.named_parameters() if p.dim() > 1)
        weight.mul_(1.5)
    with pytest.raises(AssertionError, match=case):
        check_baseline(case, library, baseline, torch.randn(3, 64, 9, 7))


def test_smoke_run_covers_every_module_mode_and_shape(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "attn_lib.bench", "--channels", "64", "--sizes", "8", "5",
               "--rounds", "2", "--min-block", "0.001", "--no-resnet", "--curve-sizes", "4", "6",
               "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Targets" in done.stdout
    result = json.loads(out.read_text())

    rows = result["modules"]
    got = {(r["case"], r["mode"], r["C"], r["H"], r["W"]) for r in rows}
    wanted = {(c, m, 64, s, s) for c in CASES for m in MODES for s in (8, 5)}
    assert got == wanted and len(rows) == len(wanted)
    for r in rows:
        assert r["N"] == BATCH and r["device"] == "cpu"
        for key in ("ratio_floor", "ratio_baseline"):
            spread = r[key]
            assert set(spread) == {"median", "q1", "q3", "min", "max"}
            assert all(math.isfinite(v) and v > 0 for v in spread.values()), (r["case"], key, spread)
            assert spread["min"] <= spread["q1"] <= spread["median"] <= spread["q3"] <= spread["max"]
        assert all(math.isfinite(v) and v > 0 for v in r["ms"].values())
        assert all(isinstance(v, int) and v > 0 for v in r["peak_bytes"].values()), r["peak_bytes"]
        assert math.isfinite(r["memory_ratio_floor"]) and r["memory_ratio_floor"] > 0
        assert math.isfinite(r["memory_ratio_baseline"]) and r["memory_ratio_baseline"] > 0

    targets = {(t["case"], t["mode"], t["reference"]) for t in result["targets"]}
    assert {("se", "forward", "floor"), ("eca", "forward", "floor"), ("cbam-channel", "forward", "floor")} <= targets
    assert {(c, m, "baseline") for c in CASES for m in MODES} <= targets
    for t in result["targets"]:
        assert isinstance(t["met"], bool) and t["shapes"] == 2 and 0 <= t["met_at"] <= 2
    assert set(result["floors"]) == set(result["baselines"]) == set(CASES)
    assert result["meta"]["threads"] == 1 and result["meta"]["clock"] == "thread_time"

    curve = result["nonlocal_curve"]
    assert {(r["mode"], r["H"]) for r in curve} == {(m, s) for m in MODES for s in (4, 6)}
    for r in curve:
        assert set(r["ms"]) == set(r["peak_bytes"]) == {"nonlocal", "nonlocal-explicit", "nonlocal-subsampled", "gc"}
        assert all(math.isfinite(v) and v > 0 for v in r["ms"].values())
        assert r["positions"] == r["H"] * r["W"]


def test_paper_table_has_every_resnet50_variant_and_a_source_for_each():
    assert set(PAPER_RESNET50) == {"resnet50", "se", "cbam", "bam", "eca", "sknet50"}
    for entry in PAPER_RESNET50.values():
        assert entry["source"] and (entry["params_M"] or entry["gmacs"])


def test_seed_results_average_the_records_of_each_seed(tmp_path):
    weights, runs = tmp_path / "weights", tmp_path / "runs"
    weights.mkdir(), runs.mkdir()
    for seed, score in ((0, 0.90), (1, 0.92), (2, 0.97)):
        folder, suffix = (weights, "") if seed == 0 else (runs, f"-seed{seed}")
        (folder / f"classifier-se{suffix}.json").write_text(json.dumps({"val_score": score, "metric": "accuracy"}))
    (weights / "unet-none.json").write_text(json.dumps({"val_score": 0.8, "metric": "dice"}))
    table = {r["name"]: r for r in seed_results(runs_dir=runs, weights_dir=weights)}
    assert set(table) == {"classifier-se", "unet-none"}
    se = table["classifier-se"]
    assert se["seeds"] == [0, 1, 2] and se["metric"] == "accuracy"
    assert se["mean"] == pytest.approx(0.93, abs=1e-4) and se["std"] == pytest.approx(0.0361, abs=1e-4)
    assert table["unet-none"]["std"] == 0.0 and table["unet-none"]["task"] == "unet"
