"""The NumPy backend at the edges of its arithmetic, each against the float64 reference or a
closed form: ReLU at exactly zero, cross-entropy and softmax of logits far apart, dropout without
masks, mnn with fewer ticks, its device."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mnistbench.plugin.backend import train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import build_spec, resolve_device
from mnistbench.variants import VARIANTS, reference
from mnistbench.variants.mnn import layout
from mnistbench_numpy import dropout_mlp, sigmoid_mlp
from mnistbench_numpy.losses import softmax_cross_entropy

NUMPY = load_backends().get("numpy")


def blank_half_spec(variant: str):
    """The variant's short run on images of which every other one is blank: with zero biases
    (for mnn a zero bias row, for dropout_mlp, which has no biases, a zero column of W1)
    pre-activations of exactly 0 occur where a gradient could flow."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (48, 28, 28)).astype(np.uint8)
    images[::2] = 0
    labels = rng.integers(0, 10, 48).astype(np.uint8)
    the_variant = VARIANTS[variant]
    spec = build_spec(the_variant, the_variant.hyperparameters(the_variant.small), images, labels,
                      0, "cpu")  # fmt: skip
    if variant == "mnn":
        A = spec.initial_weights["A"].copy()
        neurons = layout(spec.hyperparameters)
        A[neurons.bias, neurons.free :] = 0
        spec = dataclasses.replace(spec, initial_weights={"A": A})
    if variant == "dropout_mlp":
        W1 = spec.initial_weights["W1"].copy()
        W1[:, 0] = 0
        spec = dataclasses.replace(spec, initial_weights={**spec.initial_weights, "W1": W1})
    return spec


@pytest.mark.parametrize("variant", ["mlp", "dropout_mlp", "mnn", "predictive_coding"])
def test_relu_passes_no_gradient_at_exactly_zero(variant):
    """relu'(0) = 0, as PyTorch and JAX take it: blank images put pre-activations at exactly 0."""
    spec = blank_half_spec(variant)
    if variant == "mnn":  # x = (0 - mean) / std is not 0: the bias row alone cannot zero it
        x = spec.x_train.copy()
        x[::2] = 0
        spec = dataclasses.replace(spec, x_train=x)
    losses, weights = reference.train(spec)
    losses = np.concatenate(losses)
    results = train_all(NUMPY, spec)
    # Adam moves a weight whose gradient is near 0 by up to lr * g / (|g| + eps): float32 rounding
    # of g shows there (2e-5 at most measured), against lr = 1e-3 for a wrong relu'(0)
    atol = 1e-4 if variant == "mnn" else 1e-6
    for name, value in weights[-1].items():
        np.testing.assert_allclose(results[-1].weights[name], value, rtol=1e-4, atol=atol)
    np.testing.assert_allclose(np.concatenate([r.losses for r in results]), losses, rtol=1e-5)


def test_dropout_without_masks_is_the_network_with_every_unit_kept():
    rng = np.random.default_rng(0)
    w = {"W1": rng.standard_normal((784, 6)) / 28, "W2": rng.standard_normal((6, 10)) / 3}
    x, y = rng.random((4, 784)), np.array([1, 2, 3, 4])
    plain = dropout_mlp.loss_and_gradients(w, x, y.copy())
    kept = dropout_mlp.loss_and_gradients(w, x, y.copy(), dropout_masks=np.ones((4, 6)))
    assert plain[0] == pytest.approx(kept[0], rel=1e-15)
    for name in w:
        assert plain[1][name].dtype == np.float64
        np.testing.assert_allclose(plain[1][name], kept[1][name], rtol=1e-15)


def test_numpy_runs_on_the_cpu_alone():
    assert NUMPY.devices() == ["cpu"]
    assert resolve_device(NUMPY, "auto") == "cpu"


@pytest.mark.parametrize("ticks", [1, 2])
def test_mnn_with_fewer_ticks_matches_the_reference(ticks):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (24, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 24).astype(np.uint8)
    variant = VARIANTS["mnn"]
    hp = variant.hyperparameters({**variant.small, "ticks": ticks, "hidden": 20})
    spec = build_spec(variant, hp, images, labels, 0, "cpu")
    losses, weights = reference.train(spec)
    results = train_all(NUMPY, spec)
    np.testing.assert_allclose(
        np.concatenate([r.losses for r in results]), np.concatenate(losses), rtol=1e-5
    )
    np.testing.assert_allclose(results[-1].weights["A"], weights[-1]["A"], rtol=1e-4, atol=1e-4)
    x = spec.x_train
    np.testing.assert_allclose(
        NUMPY.predict("mnn", hp, results[-1].weights, x, "cpu"),
        reference.predict("mnn", hp, results[-1].weights, x),
        rtol=1e-4,
        atol=1e-5,
    )


def test_cross_entropy_of_logits_a_thousand_apart_is_finite_and_exact():
    logits = np.array([[1000.0, 0.0], [1000.0, 0.0]], np.float32)
    loss, grad = softmax_cross_entropy(logits, np.array([0, 1]))
    # -log softmax: ~0 for the right class, 1000 for the wrong one; mean 500
    assert loss == pytest.approx(500.0, rel=1e-6)
    np.testing.assert_allclose(grad, [[0, 0], [0.5, -0.5]], atol=1e-6)


def test_cross_entropy_through_a_relu_is_of_the_rectified_logits_with_no_gradient_below_zero():
    """mnn's logits are relu(last): the loss is that of the rectified logits, and the gradient
    passes only where a logit is positive (not at exactly 0, as ReLU's derivative is taken)."""
    logits = np.array([[2.0, -1.0, 0.0, 0.5], [-3.0, 0.0, 1.0, 4.0]], np.float32)
    labels = np.array([1, 3])
    loss, grad = softmax_cross_entropy(logits, labels, relu=True)
    z = np.maximum(logits.astype(np.float64), 0)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[[0, 1], labels]).mean(), rel=1e-6)
    expected = (p - np.eye(4)[labels]) / 2 * (logits > 0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)
    assert grad[0, 2] == 0 and grad[1, 1] == 0 and grad[0, 0] != 0


def test_cross_entropy_refuses_a_label_outside_the_logits():
    with pytest.raises(ValueError, match="label is outside the classes"):
        softmax_cross_entropy(np.zeros((2, 10), np.float32), np.array([3, 10]))


def test_softmax_is_per_sample_and_stable_for_samples_on_different_scales():
    z = np.array([[1000.0, 999.0, 0.0], [0.0, 1.0, 2.0]])
    expected = np.array([[math.e, 1.0, 0.0], [1.0, math.e, math.e**2]])
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sigmoid_mlp.softmax(z), expected, rtol=1e-12, atol=1e-300)
