"""The numbers the train step writes (history.csv, train.json), recomputed here from their
sources: the backend's own step losses, the saved weights scored by the float64 reference, and
the per-epoch seconds the step timed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mnistbench.data import datasets
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import step_losses
from mnistbench.training import train, weights_file
from mnistbench.variants import get_variant, reference
from tests.conftest import train_on_sample

RUNS = {  # variant: (overrides, samples each history row stands for)
    "mlp": ({"hidden": 20, "epochs": 2}, 200),
    "sigmoid_mlp": ({"hidden": 16, "iterations": 30, "log_every": 10, "batch_size": 4}, 40),
}


@pytest.fixture(scope="module", params=sorted(RUNS))
def trained(request, sample_dir, tmp_path_factory):
    variant = request.param
    overrides, _ = RUNS[variant]
    out = tmp_path_factory.mktemp(variant)
    train_on_sample(sample_dir, out, variant, overrides, seed=3, train=200, test=100)
    info = json.loads((out / "train.json").read_text())
    return variant, out, info, pd.read_csv(out / "history.csv")


def test_each_rows_train_loss_is_the_mean_of_that_epochs_step_losses(trained, sample_dir):
    variant, _, info, history = trained
    the_variant = get_variant(variant)
    data = datasets.load(sample_dir, train_limit=200)
    spec = train.build_spec(
        the_variant, info["hyperparameters"], data.train_images, data.train_labels, 3, "cpu"
    )
    losses = step_losses(load_backends().get("numpy"), spec)
    per_epoch = np.split(
        losses, np.cumsum([spec.steps_in_epoch(e) for e in range(len(spec.epochs))])[:-1]
    )
    assert history["train_loss"].tolist() == pytest.approx(
        [np.mean(e) for e in per_epoch], rel=1e-12
    )
    assert info["final_train_loss"] == pytest.approx(history["train_loss"].iloc[-1], rel=1e-15)


def test_the_last_rows_test_accuracy_is_that_of_the_saved_weights(trained, sample_dir):
    variant, out, info, history = trained
    the_variant = get_variant(variant)
    hp = info["hyperparameters"]
    weights = weights_file.load(out / "weights.npz", the_variant.weight_shapes(hp))
    data = datasets.load(sample_dir, test_limit=100)
    scores = reference.predict(
        variant, hp, weights, the_variant.prepare_inputs(data.test_images, hp)
    )
    right = int(np.sum(scores.argmax(axis=1) == data.test_labels))
    assert history["test_accuracy"].iloc[-1] == right / 100


def test_train_time_is_the_sum_of_the_epochs_and_throughput_samples_over_it(trained):
    variant, _, info, history = trained
    _, per_row = RUNS[variant]
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    assert (history["samples"] == per_row).all()
    assert (history["seconds"] > 0).all()
    assert info["epochs"] == len(history)
    assert info["train_seconds"] == pytest.approx(history["seconds"].sum(), rel=1e-12)
    assert info["samples_per_second"] == pytest.approx(
        per_row * len(history) / history["seconds"].sum(), rel=1e-12
    )
    assert (info["train_samples"], info["test_samples"]) == (200, 100)


def test_the_time_outside_training_is_recorded_by_phase(trained):
    _, _, info, _ = trained
    outside = info["seconds_outside_training"]
    assert set(outside) == {"prepare", "setup", "score", "after_epoch"}
    assert outside["prepare"] > 0 and outside["score"] > 0  # data read; every epoch scored
    assert min(outside.values()) >= 0
