"""A seed plan's look at one cell, on run folders written in the workflow's own formats."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.evaluation import predictions
from mnistbench.plan.seed_plan import SeedPlan
from mnistbench.report import seed_look, sequential
from tests.cli import run_cli

LABELS = np.arange(1000) % 10
PLAN = SeedPlan(first=3, max=5, margins={"accuracy": 0.01, "speed": 0.05})


def write_run(root, backend, seed, seconds, wrong=0, status="ok", variant="mlp"):
    """A run folder: train.json with its training seconds, predictions with ``wrong`` errors."""
    folder = root / "results" / "mnist" / variant / backend / "default" / f"seed{seed}"
    folder.mkdir(parents=True)
    info = {"status": status, "train_seconds": seconds, "epochs": 1}
    (folder / "train.json").write_text(json.dumps(info))
    predicted = LABELS.copy()
    predicted[:wrong] = (predicted[:wrong] + 1) % 10
    predictions.write(folder / predictions.PREDICTIONS, LABELS, predicted)
    return folder


def cell(root, times, seeds=3, wrong=None):
    """Run folders of backends ``times`` (name -> seconds per seed)."""
    return [
        write_run(root, backend, seed, seconds[seed], (wrong or {}).get(backend, 0))
        for backend, seconds in times.items()
        for seed in range(seeds)
    ]


def test_four_times_faster_with_the_same_predictions_is_decided_at_the_first_look(tmp_path):
    runs = cell(tmp_path, {"numpy": [1.0, 1.02, 0.98], "jax": [0.25, 0.26, 0.245]})
    look = seed_look.decide(runs, 3, PLAN, "numpy")
    accuracy, speed = look["comparisons"]
    assert (accuracy["reading"], speed["reading"]) == (sequential.EQUIVALENT, sequential.DIFFERENCE)
    assert speed["low"] < 4 < speed["high"] and speed["estimate"] == pytest.approx(4, rel=0.01)
    assert (look["decided"], look["stop"], look["look"], look["seeds"]) == (True, True, 1, 3)


def test_noisy_speeds_leave_the_cell_undecided_until_the_maximum(tmp_path):
    runs = cell(
        tmp_path, {"numpy": [1.0, 1.3, 0.8, 1.1, 0.9], "torch": [0.9, 1.2, 1.0, 0.8, 1.1]}, 5
    )
    early = seed_look.decide(runs, 3, PLAN, "numpy")
    assert (early["decided"], early["stop"]) == (False, False)
    assert early["comparisons"][1]["seeds"] == 3  # seeds 3 and 4 are not read yet
    last = seed_look.decide(runs, 5, PLAN, "numpy")
    assert (last["decided"], last["stop"], last["look"]) == (False, True, 3)
    assert seed_look.how_it_stopped(last) == "undecided at the maximum, 5 seeds (look 3)"


def test_an_accuracy_difference_is_paired_on_the_same_images(tmp_path):
    # 50 more errors on every seed: 5% less accurate, with no spread at all between seeds
    runs = cell(tmp_path, {"numpy": [1, 1, 1], "torch": [1, 1, 1]}, wrong={"torch": 50})
    accuracy = seed_look.decide(runs, 3, PLAN, "numpy")["comparisons"][0]
    assert accuracy["reading"] == sequential.DIFFERENCE
    assert accuracy["estimate"] == pytest.approx(-0.05)
    floor = 1 / (1000 * math.sqrt(12))  # one image's resolution bounds the spread from below
    half = float(sequential.radius_factor(3)) * floor / math.sqrt(3)
    assert (accuracy["low"], accuracy["high"]) == pytest.approx((-0.05 - half, -0.05 + half))


def test_a_diverged_run_makes_its_comparisons_not_testable_and_stops(tmp_path):
    runs = cell(tmp_path, {"numpy": [1, 1, 1]})
    runs.append(write_run(tmp_path, "torch", 0, 1.0, status="diverged"))
    look = seed_look.decide(runs, 3, PLAN, "numpy")
    assert look["comparisons"][0]["reading"].startswith("not testable: no result for seed 0")
    assert look["stop"]


def test_a_cell_without_the_baseline_has_nothing_to_decide(tmp_path):
    look = seed_look.decide(cell(tmp_path, {"torch": [1, 1, 1]}), 3, PLAN, "numpy")
    assert (look["comparisons"], look["decided"]) == ([], True)


def test_runs_of_two_cells_are_refused(tmp_path):
    runs = [
        write_run(tmp_path, "numpy", 0, 1.0),
        write_run(tmp_path, "numpy", 0, 1.0, variant="mnn"),
    ]
    with pytest.raises(MnistbenchError, match="the runs are of 2 cells, not one"):
        seed_look.decide(runs, 3, PLAN, "numpy")


def test_the_decide_seeds_command_writes_the_look_and_the_report_block_reads_it(tmp_path):
    runs = cell(tmp_path, {"numpy": [1.0, 1.02, 0.98], "jax": [0.25, 0.26, 0.245]})
    out = tmp_path / "look.json"
    rule = json.dumps({"first": 3, "max": 5, "margins": {"accuracy": 0.01, "speed": 0.05}})
    args = ["decide-seeds", *map(str, runs), "--count", "3", "--rule", rule, "--out", str(out)]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    view = seed_look.view([out])
    assert view["cells"] == ["mlp on mnist: decided after 3 seeds (look 1)"]
    assert view["rule"] == "first 3, then 1 at a time up to 5, until decided" + (
        " (margins: accuracy 0.01, speed 5%)"
    )
