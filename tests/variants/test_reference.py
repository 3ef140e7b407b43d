"""The float64 yardstick of the conformance suite (:mod:`mnistbench.variants.reference`) is itself
right, and the NumPy backend reaches the values that can be worked out by hand.

1. The yardstick's gradients against central finite differences of its own loss, every variant.
2. Closed-form losses at zero weights (uniform softmax: ln 10; a zero output: 1/2; ...), which
   the yardstick and the NumPy backend must both give.
3. Adam's first step, in closed form: bias correction makes it ``lr * g / (|g| + eps)``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.plugin.backend import train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import first_step
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS, predictive_coding, reference
from tests.gradients import assert_gradients_match

NUMPY = load_backends().get("numpy")


@pytest.fixture(scope="module")
def data(sample_dir):
    return datasets.load(sample_dir, train_limit=96)


def one_step_spec(variant: str, data, **overrides):
    """The first step of the variant's short run on the sample's first 96 images."""
    the_variant = VARIANTS[variant]
    hp = the_variant.hyperparameters({**the_variant.small, **overrides})
    return first_step(build_spec(the_variant, hp, data.train_images, data.train_labels, 1, "cpu"))


def batch_of(spec):
    """float64 weights (moved off their initial values, so no bias starts at an exact 0), the
    first batch and its extras."""
    rng = np.random.default_rng(7)
    w = {
        k: np.asarray(v, np.float64) + 0.01 * rng.standard_normal(np.shape(v))
        for k, v in spec.initial_weights.items()
    }
    rows = spec.epochs[0]
    extras = {k: np.asarray(v[0], np.float64) for k, v in spec.extras.items()}
    return w, np.asarray(spec.x_train[rows], np.float64), spec.y_train[rows], extras


# --- 1. the yardstick's gradients ----------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_reference_gradients_match_central_finite_differences(variant, data):
    spec = one_step_spec(variant, data)
    w, x, y, extras = batch_of(spec)
    hp = spec.hyperparameters
    loss_and_grads = reference.LOSSES[variant]
    _, grads = loss_and_grads(w, x, y, hp, extras)
    if variant == "predictive_coding":
        # the update is -dF/dW at the relaxed states, held fixed
        x2 = reference.one_hot(y)
        x1 = predictive_coding.reference_relax(w, x, x2, hp)

        def loss(weights):
            return predictive_coding.reference_energy(weights, x, x1, x2)
    else:

        def loss(weights):
            return loss_and_grads(weights, x, y, hp, extras)[0]

    assert_gradients_match(loss, grads, w, 4, np.random.default_rng(0))


def test_reference_mnn_gradient_is_zero_into_the_clamped_neurons(data):
    spec = one_step_spec("mnn", data)
    w, x, y, extras = batch_of(spec)
    _, grads = reference.mnn(w, x, y, spec.hyperparameters, extras)
    assert np.all(grads["A"][:, :785] == 0) and np.abs(grads["A"][:, 785:]).max() > 0


# --- 2. closed-form losses at zero weights --------------------------------------------------------

# With every weight 0: mlp and mnn give ten equal logits (cross-entropy ln 10); sigmoid_mlp a
# uniform softmax, squared error 0.9^2 + 9 * 0.1^2 = 0.9; dropout_mlp a zero output, half the
# squared error to a one-hot target = 1/2; predictive_coding predicts 0 at both layers, and x1
# stays at 0 (ReLU's gradient is 0 there), so the energy is 1/2 |onehot|^2 = 1/2.
AT_ZERO = {
    "mlp": math.log(10),
    "mnn": math.log(10),
    "sigmoid_mlp": 0.9,
    "dropout_mlp": 0.5,
    "predictive_coding": 0.5,
}


@pytest.mark.parametrize("variant", sorted(AT_ZERO))  # the built-ins; plugins test their own
def test_first_loss_at_zero_weights_is_the_closed_form_value(variant, data):
    spec = one_step_spec(variant, data)
    zeros = {k: np.zeros_like(v) for k, v in spec.initial_weights.items()}
    spec = dataclasses.replace(spec, initial_weights=zeros)
    [[reference_loss]], _ = reference.train(spec)
    [epoch] = train_all(NUMPY, spec)
    assert reference_loss == pytest.approx(AT_ZERO[variant], rel=1e-12)
    assert epoch.losses[0] == pytest.approx(AT_ZERO[variant], rel=1e-6)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_first_step_with_every_relu_at_zero_is_the_float64_one(variant, data):
    """With the first layer's weights (mnn: the whole matrix) at zero, every ReLU sits exactly at
    0, where its gradient is taken as 0 (as PyTorch and JAX take it), while the layers above
    still pass gradient down: the step there must match the yardstick's."""
    spec = one_step_spec(variant, data)
    first_layer = {"W1", "b1", "A"}
    weights = {
        k: np.zeros_like(v) if k in first_layer else v for k, v in spec.initial_weights.items()
    }
    spec = dataclasses.replace(spec, initial_weights=weights)
    _, [expected] = reference.train(spec)
    [epoch] = train_all(NUMPY, spec)
    for name, value in expected.items():
        np.testing.assert_allclose(epoch.weights[name], value, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_predictions_at_zero_weights_are_all_equal(variant, data):
    """No class is favoured by zero weights: the scores of each image are all the same."""
    spec = one_step_spec(variant, data)
    zeros = {k: np.zeros_like(v) for k, v in spec.initial_weights.items()}
    scores = NUMPY.predict(variant, spec.hyperparameters, zeros, spec.x_train, "cpu")
    expected = 0.1 if variant == "sigmoid_mlp" else 0.0  # probabilities; else logits, outputs
    np.testing.assert_allclose(scores, expected, atol=1e-7)


# --- 3. Adam's first step in closed form ---------------------------------------------------------


def test_first_adam_step_of_mnn_moves_each_weight_by_lr_g_over_abs_g_plus_eps(data):
    spec = one_step_spec("mnn", data)
    hp = spec.hyperparameters
    w0 = {"A": np.asarray(spec.initial_weights["A"], np.float64)}
    rows = spec.epochs[0]
    _, grads = reference.mnn(
        w0, np.asarray(spec.x_train[rows], np.float64), spec.y_train[rows], hp, {}
    )
    g = grads["A"]
    # m = (1 - beta1) g and v = (1 - beta2) g^2, corrected by the same factors: m^ = g, v^ = g^2
    expected = w0["A"] - hp["lr"] * g / (np.abs(g) + hp["eps"])
    _, [after] = reference.train(spec)
    [epoch] = train_all(NUMPY, spec)
    np.testing.assert_allclose(after["A"], expected, rtol=0, atol=1e-12)
    # float32: where |g| is near float32 rounding, the step's sign may differ; elsewhere it is exact
    moved = np.asarray(epoch.weights["A"], np.float64) - w0["A"]
    clear = np.abs(g) > 1e-4
    assert clear.sum() > 1000
    np.testing.assert_allclose(moved[clear], (expected - w0["A"])[clear], rtol=1e-3)
    np.testing.assert_array_equal(moved[:, :785], 0)  # the clamped columns never move
