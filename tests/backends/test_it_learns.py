"""``sigmoid_mlp`` and ``dropout_mlp`` learn: a short run on the MNIST sample lowers the loss and
lifts test accuracy from chance (about 0.1) to well above it, on every built-in backend.

(``mlp``, ``mnn`` and ``predictive_coding`` have theirs in test_backends.py, test_mnn.py and
test_predictive_coding.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.plugin.backend import train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import build_spec
from mnistbench.variants import get_variant

REGISTRY = load_backends()
# variant: (overrides for a run of about a second, test accuracy it must pass; measured: 0.74 and
# 0.70 on the sample's 1,000 test images, from 0.12 and 0.09 at the initial weights)
RUNS = {
    "sigmoid_mlp": ({"iterations": 150, "log_every": 50}, 0.6),
    "dropout_mlp": ({"epochs": 3}, 0.6),
}


@pytest.fixture(scope="module")
def data(sample_dir):
    return datasets.load(sample_dir)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("variant", sorted(RUNS))
def test_a_short_run_lowers_the_loss_and_beats_chance_on_the_test_set(variant, backend, data):
    overrides, accuracy = RUNS[variant]
    the_variant = get_variant(variant)
    hp = the_variant.hyperparameters(overrides)
    spec = build_spec(the_variant, hp, data.train_images, data.train_labels, 0, "cpu")
    trainer = REGISTRY.get(backend)
    epochs = train_all(trainer, spec)
    first, last = np.mean(epochs[0].losses), np.mean(epochs[-1].losses)
    assert last < 0.95 * first
    x_test = the_variant.prepare_inputs(data.test_images, hp)

    def test_accuracy(weights) -> float:
        scores = trainer.predict(variant, hp, weights, x_test, "cpu")
        return float(np.mean(scores.argmax(1) == data.test_labels))

    assert test_accuracy(spec.initial_weights) < 0.2  # chance, before training
    assert test_accuracy(epochs[-1].weights) > accuracy
