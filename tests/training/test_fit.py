"""fit: it times each trainer's ``train_epoch`` and nothing before it, and refuses an epoch with
the wrong number of step losses."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plugin.backend import EpochResult
from mnistbench.training import epochs, train
from mnistbench.variants import get_variant

SETUP_SECONDS = 0.5


class Scripted:
    """A backend that sleeps in its set-up and returns ``missing`` step losses too few."""

    name, version, variants = "scripted", "0", frozenset({"mlp"})

    def __init__(self, setup_seconds: float = 0.0, missing: int = 0):
        self.setup_seconds, self.missing = setup_seconds, missing

    def setup(self, spec):
        time.sleep(self.setup_seconds)
        self.spec = spec
        return self

    def train_epoch(self, epoch):
        losses = np.ones(self.spec.steps_in_epoch(epoch) - self.missing)
        return EpochResult(losses, dict(self.spec.initial_weights))

    def predict(self, variant, hyperparameters, weights, x, device):
        return np.zeros((len(x), 10), np.float32)


def fit(backend):
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"epochs": 2, "hidden": 4, "batch_size": 4})
    images = np.zeros((40, 28, 28), np.uint8)
    spec = train.build_spec(variant, hp, images, np.zeros(40, np.uint8), 0, "cpu")
    return epochs.fit(backend, spec, variant.prepare_inputs(images, hp), np.zeros(40, np.int64))


def test_set_up_time_is_in_no_epochs_seconds():
    model = fit(Scripted(setup_seconds=SETUP_SECONDS))
    assert len(model.history) == 2
    assert all(row["seconds"] < SETUP_SECONDS / 2 for row in model.history)


def test_an_epoch_with_too_few_step_losses_is_one_line_naming_the_backend():
    with pytest.raises(MnistbenchError) as refused:
        fit(Scripted(missing=1))
    assert str(refused.value) == (
        "backend 'scripted' returned 9 step losses for epoch 1, which has 10 steps"
    )
