"""A run whose loss goes NaN or infinite: stopped at once, recorded as diverged, never an accuracy.

The real commands on the MNIST sample: ``mlp`` with a learning rate of 1e8 overflows in its first
epoch. Train records where, evaluate says the run diverged, aggregate lists it as ``diverged``
with the place in ``reason`` and no accuracy, the report leaves it out of every table of results;
every JSON file stays valid JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistbench.plugin.backend import EpochResult
from mnistbench.training import epochs, train
from mnistbench.variants import get_variant
from tests.cli import run_cli

EPOCHS = 3


def strict_json(path: Path) -> dict:
    """``path`` parsed as JSON proper: NaN and Infinity are not JSON."""

    def refuse(token: str):
        raise AssertionError(f"{path}: {token} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def run_step(*args: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def runs(sample_dir, tmp_path_factory) -> Path:
    """Two trained and evaluated runs: seed 0 sound, seed 1 diverged; then aggregate, report."""
    root = tmp_path_factory.mktemp("divergence")
    for seed, lr in ((0, 0.1), (1, 1e8)):
        out = root / "results" / "mnist" / "mlp" / "numpy" / f"seed{seed}"
        hparams = json.dumps({"epochs": EPOCHS if seed else 1, "lr": lr})
        run_step(
            "train", "--data", str(sample_dir), "--dataset", "mnist", "--variant", "mlp",
            "--backend", "numpy", "--seed", str(seed), "--out", str(out), "--hparams", hparams,
            "--train-limit", "400", "--test-limit", "200",
        )  # fmt: skip
        run_step("evaluate", "--data", str(sample_dir), "--run", str(out))
    metrics = sorted(str(p) for p in (root / "results").rglob("metrics.json"))
    run_step("aggregate", *metrics, "--out", str(root / "tables"))
    run_step("report", "--tables", str(root / "tables"), "--out", str(root / "report.html"))
    return root


def diverged_dir(root: Path) -> Path:
    return root / "results" / "mnist" / "mlp" / "numpy" / "seed1"


def test_training_stops_in_the_epoch_where_the_loss_stopped_being_finite(runs):
    info = strict_json(diverged_dir(runs) / "train.json")
    assert info["status"] == "diverged"
    assert info["epochs"] == 1 < EPOCHS
    assert info["diverged"]["epoch"] == 1 and info["diverged"]["step"] >= 1
    assert info["final_train_loss"] is None


def test_the_diverged_epoch_has_no_test_accuracy_in_the_history(runs):
    history = pd.read_csv(diverged_dir(runs) / "history.csv")
    assert len(history) == 1 and history["test_accuracy"].isna().all()


def test_a_sound_run_is_recorded_as_ok(runs):
    info = strict_json(runs / "results" / "mnist" / "mlp" / "numpy" / "seed0" / "train.json")
    assert info["status"] == "ok" and info["diverged"] is None


def test_the_diverged_runs_metrics_say_so_and_hold_no_accuracy(runs):
    metrics = strict_json(diverged_dir(runs) / "metrics.json")
    assert metrics["status"] == "diverged"
    assert metrics["test_accuracy"] is None and metrics["confusion_matrix"] is None


def test_the_summary_shows_diverged_with_where_and_no_accuracy(runs):
    summary = pd.read_csv(runs / "tables" / "summary.csv").set_index("seed")
    where = strict_json(diverged_dir(runs) / "train.json")["diverged"]
    assert summary.loc[1, "status"] == "diverged"
    assert summary.loc[1, "reason"] == (
        f"loss not finite at epoch {where['epoch']}, step {where['step']}"
    )
    assert pd.isna(summary.loc[1, "test_accuracy"])
    assert summary.loc[0, "status"] == "ok" and summary.loc[0, "test_accuracy"] > 0.5


def test_the_report_lists_the_run_as_diverged_and_counts_only_the_sound_one(runs):
    html = (runs / "report.html").read_text()
    assert "Runs without a result" in html and "<td>diverged</td>" in html
    assert "1 runs with a result" in html


class NanAt:
    """A backend whose loss turns NaN at (epoch, step), counting the epochs it was asked for."""

    name, version, variants = "nan", "0", frozenset({"mlp"})

    def __init__(self, epoch: int, step: int):
        self.epoch, self.step, self.epochs_run = epoch, step, 0

    def setup(self, spec):
        self.spec = spec
        return self

    def train_epoch(self, epoch):
        self.epochs_run += 1
        losses = np.ones(self.spec.steps_in_epoch(epoch))
        if epoch + 1 == self.epoch:
            losses[self.step - 1] = np.nan
        return EpochResult(losses, dict(self.spec.initial_weights))

    def predict(self, variant, hyperparameters, weights, x, device):
        return np.zeros((len(x), 10), np.float32)


def test_fit_stops_after_the_epoch_of_the_first_nan_and_names_its_step():
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"epochs": 5, "hidden": 4, "batch_size": 4})
    images = np.zeros((40, 28, 28), np.uint8)
    spec = train.build_spec(variant, hp, images, np.zeros(40, np.uint8), 0, "cpu")
    backend = NanAt(epoch=2, step=3)
    model = epochs.fit(backend, spec, variant.prepare_inputs(images, hp), np.zeros(40, np.int64))
    assert model.diverged == {"epoch": 2, "step": 3}
    assert backend.epochs_run == 2 and len(model.history) == 2
    assert model.history[1]["test_accuracy"] is None


def test_fit_calls_weights_that_went_infinite_diverged_at_the_epochs_last_step():
    losses, weights = np.ones(7), {"W": np.array([1.0, np.inf])}
    assert epochs.divergence(4, losses, weights) == {"epoch": 5, "step": 7}
    assert epochs.divergence(4, losses, {"W": np.ones(2)}) is None
