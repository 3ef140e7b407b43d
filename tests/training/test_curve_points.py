"""The learning curve's resolution: which epochs of a run score the test set (``curve_points``),
and that a run records those and only those."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mnistbench.errors import MnistbenchError, Stopped
from mnistbench.plugin.backend import EpochResult
from mnistbench.training import epochs, train
from mnistbench.training.epochs import scored_epochs
from mnistbench.variants import get_variant
from tests.conftest import REPO, SAMPLE_DATASET

# The schedule --------------------------------------------------------------------------------


def test_a_hundred_epochs_at_25_points_score_every_fourth():
    assert scored_epochs(100, 25) == list(range(4, 101, 4))


def test_points_that_do_not_divide_the_epochs_are_spaced_by_the_ceiling_of_their_share():
    assert scored_epochs(10, 3) == [4, 7, 10]
    assert scored_epochs(20, 6) == [4, 7, 10, 14, 17, 20]


@pytest.mark.parametrize("n_epochs", range(1, 61))
def test_the_last_epoch_always_scores_and_the_gaps_differ_by_at_most_one(n_epochs):
    for points in range(1, 70):
        chosen = scored_epochs(n_epochs, points)
        assert chosen[-1] == n_epochs
        assert len(chosen) == min(points, n_epochs)
        gaps = np.diff([0, *chosen])
        assert gaps.min() >= 1 and gaps.max() - gaps.min() <= 1, (n_epochs, points, chosen)


def test_fewer_epochs_than_points_score_every_epoch():
    assert scored_epochs(20, 25) == list(range(1, 21))


def test_one_epoch_scores_that_epoch():
    assert scored_epochs(1, 25) == [1]
    assert scored_epochs(1, 1) == [1]


def test_one_point_is_the_last_epoch():
    assert scored_epochs(100, 1) == [100]


def test_no_setting_scores_every_epoch():
    assert scored_epochs(7, None) == list(range(1, 8))


@pytest.mark.parametrize("points", [0, -3])
def test_fewer_than_one_point_is_refused_in_one_line(points):
    with pytest.raises(MnistbenchError) as refused:
        scored_epochs(10, points)
    assert str(refused.value) == f"curve points: got {points}; expected a whole number >= 1"


def test_the_default_is_25_everywhere_a_user_meets_it():
    import yaml

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    from mnistbench.cli import build_parser

    parsed = build_parser().parse_args(
        ["train", "--data", "d", "--dataset", "x", "--variant", "mlp", "--backend", "numpy"]
        + ["--seed", "0", "--out", "o"]
    )
    assert epochs.CURVE_POINTS == 25
    assert schema["properties"]["curve_points"]["default"] == epochs.CURVE_POINTS
    assert config["curve_points"] == epochs.CURVE_POINTS
    assert parsed.curve_points == epochs.CURVE_POINTS


# A run records the chosen epochs -------------------------------------------------------------


class Counting:
    """A backend whose predict counts its calls and scores epoch e's weights as accuracy e/100."""

    name, version, variants = "counting", "0", frozenset({"mlp"})

    def setup(self, spec):
        self.spec, self.predicted = spec, []
        return self

    def train_epoch(self, epoch):
        weights = {k: np.full_like(v, epoch + 1) for k, v in self.spec.initial_weights.items()}
        return EpochResult(np.ones(self.spec.steps_in_epoch(epoch)), weights)

    def predict(self, variant, hyperparameters, weights, x, device):
        epoch = int(next(iter(weights.values())).flat[0])
        self.predicted.append(epoch)
        scores = np.zeros((len(x), 10))
        scores[: epoch * len(x) // 100, 1] = 1  # the first epoch% of the images predicted 1
        return scores


def fit_counting(n_epochs, curve_points):
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"epochs": n_epochs, "hidden": 4, "batch_size": 20})
    images = np.zeros((40, 28, 28), np.uint8)
    spec = train.build_spec(variant, hp, images, np.zeros(40, np.uint8), 0, "cpu")
    backend = Counting()
    x = variant.prepare_inputs(np.zeros((100, 28, 28), np.uint8), hp)
    model = epochs.fit(backend, spec, x, np.ones(100, np.int64), curve_points=curve_points)
    return model, backend


def test_a_run_scores_only_the_chosen_epochs_and_leaves_the_others_empty():
    model, backend = fit_counting(12, 4)
    assert backend.predicted == [3, 6, 9, 12]
    assert [row["epoch"] for row in model.history] == list(range(1, 13))
    scored = {row["epoch"]: row["test_accuracy"] for row in model.history}
    assert scored == {e: (e / 100 if e in (3, 6, 9, 12) else None) for e in range(1, 13)}


def test_without_a_setting_fit_scores_every_epoch():
    model, backend = fit_counting(5, None)
    assert backend.predicted == [1, 2, 3, 4, 5]


def test_the_train_step_writes_empty_accuracies_between_the_points(sample_dir, tmp_path):
    out = tmp_path / "run"
    train.run(
        data=sample_dir,
        dataset=SAMPLE_DATASET,
        variant="mnn",
        backend="numpy",
        seed=0,
        out=out,
        hyperparameters={"epochs": 6, "hidden": 8, "batch_size": 64},
        train_limit=256,
        test_limit=200,
        curve_points=2,
    )
    history = pd.read_csv(out / "history.csv")
    info = json.loads((out / "train.json").read_text())
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    assert history["test_accuracy"].notna().tolist() == [False, False, True, False, False, True]
    assert info["scored_epochs"] == [3, 6]
    assert history["seconds"].notna().all() and history["train_loss"].notna().all()


def test_the_points_change_what_is_scored_not_what_is_trained(sample_dir, tmp_path):
    runs = {}
    for points in (1, 3):
        out = tmp_path / f"points{points}"
        train.run(
            data=sample_dir,
            dataset=SAMPLE_DATASET,
            variant="mlp",
            backend="numpy",
            seed=0,
            out=out,
            hyperparameters={"epochs": 3, "hidden": 8},
            train_limit=300,
            test_limit=200,
            curve_points=points,
        )
        runs[points] = (pd.read_csv(out / "history.csv"), np.load(out / "weights.npz"))
    (few, few_weights), (all_, all_weights) = runs[1], runs[3]
    assert few["test_accuracy"].notna().sum() == 1 and all_["test_accuracy"].notna().all()
    assert few["test_accuracy"].iloc[-1] == all_["test_accuracy"].iloc[-1]
    assert few["train_loss"].tolist() == all_["train_loss"].tolist()
    for name in all_weights.files:
        np.testing.assert_array_equal(few_weights[name], all_weights[name])


@pytest.mark.parametrize("value", ["0", "-1"])
def test_the_train_command_refuses_a_bad_setting_in_one_line_and_writes_nothing(
    sample_dir, tmp_path, value
):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mnistbench", "-q", "train", "--data", str(sample_dir)]
    command += ["--dataset", SAMPLE_DATASET, "--variant", "mlp", "--backend", "numpy"]
    command += ["--seed", "0", "--out", str(out), "--curve-points", value]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"mnistbench train: error: curve points: got {value}; expected a whole number >= 1"
    ]
    assert not out.exists()


class StoppedOnce(Counting):
    """:class:`Counting`, resumable, stopped (as by SIGTERM) in epoch ``stop_in`` the first time."""

    resumable = True

    def __init__(self, stop_in: int):
        self.stop_in = stop_in

    def setup(self, spec):
        predicted = getattr(self, "predicted", [])
        super().setup(spec)
        self.predicted = predicted  # kept across attempts
        return self

    def train_epoch(self, epoch):
        if epoch + 1 == self.stop_in:
            self.stop_in = None
            raise KeyboardInterrupt
        return super().train_epoch(epoch)


def test_a_resumed_run_scores_the_same_epochs_as_an_uninterrupted_one(tmp_path):
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"epochs": 9, "hidden": 4, "batch_size": 20})
    images = np.zeros((40, 28, 28), np.uint8)
    spec = train.build_spec(variant, hp, images, np.zeros(40, np.uint8), 0, "cpu")
    x = variant.prepare_inputs(np.zeros((100, 28, 28), np.uint8), hp)
    y = np.ones(100, np.int64)
    whole, _ = epochs.train_with_checkpoints(Counting(), spec, x, y, None, "f", curve_points=3)
    backend = StoppedOnce(stop_in=5)
    with pytest.raises(Stopped):
        epochs.train_with_checkpoints(backend, spec, x, y, tmp_path, "f", curve_points=3)
    resumed, progress = epochs.train_with_checkpoints(
        backend, spec, x, y, tmp_path, "f", curve_points=3
    )
    assert progress.attempts == 2
    assert backend.predicted == [3, 6, 9]  # over both attempts: epoch 3 in the first, once
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in whole.history]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.history] == strip
    assert [r["epoch"] for r in resumed.history if r["test_accuracy"] is not None] == [3, 6, 9]
