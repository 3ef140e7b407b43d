"""``curve_points`` through the real Snakemake: the runs record the epochs it picks, changing it
re-runs the training with the same weights and results, and a bad value is one line.

One finished run of the quick DAG on the MNIST sample (NumPy; ``sigmoid_mlp``'s 300 iterations
make three history rows, ``mlp`` has one epoch), scoring one point per run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATASET
from tests.workflow.runner import copy_workflow, planned_jobs, run_snakemake

pytestmark = pytest.mark.slow
RUNS = ["backends=[numpy]", "variants=[mlp,sigmoid_mlp]"]
TRAIN_AND_AFTER = {
    *((rule, variant, "numpy", "0") for rule in ("train_model", "evaluate_model")
      for variant in ("mlp", "sigmoid_mlp")),
    ("aggregate_results",), ("write_report",), ("all",),
}  # fmt: skip


def run_dir(work: Path, variant: str) -> Path:
    return work / "results" / SAMPLE_DATASET / variant / "numpy" / "default" / "seed0"


def outcome(work: Path, variant: str) -> dict:
    """What a run produced: its history, weights and test accuracy."""
    folder = run_dir(work, variant)
    with np.load(folder / "weights.npz") as archive:
        weights = {name: archive[name] for name in archive.files}
    metrics = json.loads((folder / "metrics.json").read_text())
    return {
        "history": pd.read_csv(folder / "history.csv"),
        "weights": weights,
        "accuracy": metrics["test_accuracy"],
        "scored": json.loads((folder / "train.json").read_text())["scored_epochs"],
    }


@pytest.fixture(scope="module")
def one_point(tmp_path_factory):
    """A finished run with curve_points=1 (typed as users type it); returns (work, outcomes)."""
    work = copy_workflow(tmp_path_factory.mktemp("curve_points"))
    result = run_snakemake(work, "--config", *RUNS, "curve_points=1")
    assert result.returncode == 0, result.stderr[-3000:]
    return work, {variant: outcome(work, variant) for variant in ("mlp", "sigmoid_mlp")}


def test_each_run_scores_only_its_last_epoch(one_point):
    _, runs = one_point
    sigmoid = runs["sigmoid_mlp"]["history"]
    assert sigmoid["epoch"].tolist() == [1, 2, 3]
    assert sigmoid["test_accuracy"].isna().tolist() == [True, True, False]
    assert runs["sigmoid_mlp"]["scored"] == [3]
    assert runs["mlp"]["history"]["test_accuracy"].notna().tolist() == [True]


def test_the_unchanged_setting_reruns_nothing(one_point):
    work, _ = one_point
    result = run_snakemake(work, "--dry-run", "--config", *RUNS, "curve_points=1")
    assert planned_jobs(result) == set()


def test_a_changed_setting_reruns_the_training_and_changes_only_the_curve(one_point):
    work, before = one_point
    planned = run_snakemake(work, "--dry-run", "--config", *RUNS, "curve_points=3")
    assert planned_jobs(planned) == TRAIN_AND_AFTER
    assert "Params have changed since last execution" in planned.stdout
    result = run_snakemake(work, "--config", *RUNS, "curve_points=3")
    assert result.returncode == 0, result.stderr[-3000:]
    after = outcome(work, "sigmoid_mlp")
    assert after["history"]["test_accuracy"].notna().all()
    assert after["scored"] == [1, 2, 3]
    old = before["sigmoid_mlp"]
    assert after["history"]["test_accuracy"].iloc[-1] == old["history"]["test_accuracy"].iloc[-1]
    assert after["history"]["train_loss"].tolist() == old["history"]["train_loss"].tolist()
    assert after["accuracy"] == old["accuracy"]
    for name, value in old["weights"].items():
        np.testing.assert_array_equal(after["weights"][name], value)
    report = (work / "results" / "report.html").read_text()
    assert "curve_points" in report
    again = run_snakemake(work, "--dry-run", "--config", *RUNS, "curve_points=3")
    assert planned_jobs(again) == set()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "got 0, it is less than the minimum of 1"),
        ("some", "got 'some', which is not an integer"),
    ],
)
def test_a_bad_setting_stops_snakemake_with_one_line_naming_the_key(tmp_path, value, problem):
    work = copy_workflow(tmp_path)
    result = run_snakemake(work, "--dry-run", "--config", *RUNS, f"curve_points={value}")
    assert result.returncode != 0
    lines = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith("mnistbench: ")
    ]
    assert len(lines) == 1 and lines[0].startswith(f"mnistbench: config: curve_points: {problem}")
    assert not (work / "results").exists()
