"""The NumPy backend's arithmetic where floating point makes it delicate: logits far apart, and
ReLU exactly at 0; and what it declares about itself."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import resolve_device
from mnistbench_numpy import dropout_mlp, sigmoid_mlp
from mnistbench_numpy.losses import softmax_cross_entropy


def test_the_numpy_backend_runs_on_the_cpu():
    numpy = load_backends().get("numpy")
    assert numpy.devices() == ["cpu"] and resolve_device(numpy, "auto") == "cpu"


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


def test_dropout_without_masks_is_dropout_with_every_unit_kept():
    rng = np.random.default_rng(0)
    w = {"W1": rng.normal(size=(784, 5)) * 0.1, "W2": rng.normal(size=(5, 10))}
    x, y = rng.random((3, 784)), np.array([1, 2, 3])
    bare = dropout_mlp.loss_and_gradients(w, x, y.copy())
    ones = dropout_mlp.loss_and_gradients(w, x, y.copy(), dropout_masks=np.ones((3, 5)))
    assert bare[0] == ones[0]
    for name in w:
        np.testing.assert_array_equal(bare[1][name], ones[1][name])
