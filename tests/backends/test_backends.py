"""The built-in backends: they learn, and from the same seed they compute the same thing."""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.plugin.backend import train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import step_losses
from mnistbench.training.train import build_spec
from mnistbench.variants import get_variant, reference

REGISTRY = load_backends()
BACKENDS = ["numpy", "torch"]


def spec_for(mnist_dir_images, labels, variant="mlp", seed=0, **overrides):
    the_variant = get_variant(variant)
    hp = the_variant.hyperparameters(overrides)
    return build_spec(the_variant, hp, mnist_dir_images, labels, seed, "cpu")


@pytest.fixture(scope="module")
def images_and_labels(sample_dir):
    from mnistbench.data import datasets

    data = datasets.load(sample_dir, train_limit=400)
    return data.train_images, data.train_labels


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_lowers_the_loss_on_a_small_slice(backend, images_and_labels):
    spec = spec_for(*images_and_labels, epochs=3)
    losses = step_losses(REGISTRY.get(backend), spec)
    steps = spec.steps_in_epoch(0)
    assert losses[-steps:].mean() < 0.5 * losses[:steps].mean()


def test_same_seed_gives_identical_initial_weights_and_order(images_and_labels):
    a, b = spec_for(*images_and_labels, seed=3), spec_for(*images_and_labels, seed=3)
    for key in a.initial_weights:
        np.testing.assert_array_equal(a.initial_weights[key], b.initial_weights[key])
    np.testing.assert_array_equal(a.epochs[0], b.epochs[0])


def test_different_seeds_give_different_initial_weights(images_and_labels):
    a, b = spec_for(*images_and_labels, seed=0), spec_for(*images_and_labels, seed=1)
    assert not np.array_equal(a.initial_weights["W1"], b.initial_weights["W1"])


def test_numpy_and_torch_losses_agree_for_50_steps(images_and_labels):
    spec = spec_for(*images_and_labels, epochs=1)  # 400 images / batch 8 = 50 steps
    reference, other = (
        step_losses(REGISTRY.get("numpy"), spec),
        step_losses(REGISTRY.get("torch"), spec),
    )
    assert len(reference) == 50
    np.testing.assert_allclose(other, reference, rtol=1e-4)


def test_numpy_and_torch_end_with_the_same_weights(images_and_labels):
    spec = spec_for(*images_and_labels, epochs=1)
    [numpy_epoch] = train_all(REGISTRY.get("numpy"), spec)
    [torch_epoch] = train_all(REGISTRY.get("torch"), spec)
    for key, value in numpy_epoch.weights.items():
        np.testing.assert_allclose(torch_epoch.weights[key], value, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_is_deterministic_under_a_seed(backend, images_and_labels):
    spec = spec_for(*images_and_labels, epochs=1)
    np.testing.assert_array_equal(
        step_losses(REGISTRY.get(backend), spec), step_losses(REGISTRY.get(backend), spec)
    )


@pytest.mark.parametrize("trainer", BACKENDS)
@pytest.mark.parametrize("evaluator", BACKENDS)
def test_any_backend_predicts_with_any_backends_weights(trainer, evaluator, images_and_labels):
    spec = spec_for(*images_and_labels, epochs=1)
    [epoch] = train_all(REGISTRY.get(trainer), spec)
    scores = REGISTRY.get(evaluator).predict(
        "mlp", spec.hyperparameters, epoch.weights, spec.x_train, "cpu"
    )
    # not the trainer's own predict, which is the evaluator itself when both are the same backend
    expected = reference.predict("mlp", spec.hyperparameters, epoch.weights, spec.x_train)
    assert scores.shape == (len(spec.x_train), 10)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-5)
