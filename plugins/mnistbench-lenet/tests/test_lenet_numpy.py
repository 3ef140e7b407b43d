"""The NumPy step's hand-written backward pass: against central finite differences of its own
float32 loss (in float64 arithmetic) and against the float64 reference's gradients."""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.plugin.testing import small_spec
from mnistbench_lenet import numpy_steps, reference

STEP = 1e-4


@pytest.fixture(scope="module")
def batch():
    spec = small_spec("lenet", samples=8)
    w = {k: np.asarray(v, np.float64) for k, v in spec.initial_weights.items()}
    return w, spec.x_train.astype(np.float64), spec.y_train


# Each backward pass, checked against central differences of its own loss in float64 (the NumPy
# step's functions follow their inputs' dtype): (loss_and_gradients, seed, entries per weight).
BACKWARD_PASSES = {
    "numpy_step": (numpy_steps.loss_and_gradients, 0, 6),
    "reference": (lambda w, x, y: reference.loss_and_gradients(w, x, y, {}, {}), 1, 4),
}


@pytest.mark.parametrize("which", BACKWARD_PASSES)
def test_gradients_match_central_finite_differences(batch, which):
    loss_and_gradients, seed, picks = BACKWARD_PASSES[which]
    w, x, y = batch

    def loss(weights) -> float:
        return loss_and_gradients(weights, x, y)[0]

    _, grads = loss_and_gradients(w, x, y)
    rng = np.random.default_rng(seed)
    for name, value in w.items():
        for index in rng.integers(0, value.size, picks):
            plus, minus = {**w, name: value.copy()}, {**w, name: value.copy()}
            plus[name].flat[index] += STEP
            minus[name].flat[index] -= STEP
            numeric = (loss(plus) - loss(minus)) / (2 * STEP)
            assert grads[name].flat[index] == pytest.approx(numeric, rel=1e-4, abs=1e-8), name


def test_numpy_gradients_match_the_float64_reference(batch):
    w, x, y = batch
    loss, grads = numpy_steps.loss_and_gradients(w, x, y)
    want_loss, want = reference.loss_and_gradients(w, x, y, {}, {})
    # The same arithmetic in float64 but for the step's float32 constants (2/3 rounded): ~1e-8.
    assert loss == pytest.approx(want_loss, rel=1e-7)
    for name, value in want.items():
        scale = np.abs(value).max()
        np.testing.assert_allclose(grads[name], value, rtol=0, atol=1e-6 * scale, err_msg=name)


def test_predict_in_chunks_is_predict_at_once(batch, monkeypatch):
    w, x, _ = batch
    whole = numpy_steps.predict(w, x.astype(np.float32), {})
    monkeypatch.setattr(numpy_steps, "PREDICT_ROWS", 3)
    chunked = numpy_steps.predict(w, x.astype(np.float32), {})
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)  # BLAS blocks by rows


def test_first_loss_at_zero_weights_is_ln_10_in_the_step_and_the_reference(batch):
    """Zero weights give ten zero logits: a uniform softmax, cross-entropy ln 10."""
    w, x, y = batch
    zeros = {k: np.zeros_like(v) for k, v in w.items()}
    assert reference.loss_and_gradients(zeros, x, y, {}, {})[0] == pytest.approx(np.log(10))
    zeros32 = {k: v.astype(np.float32) for k, v in zeros.items()}
    step_loss = numpy_steps.STEP(zeros32, {}, x.astype(np.float32), y, {}, {"lr": 0.1})
    assert step_loss == pytest.approx(np.log(10), rel=1e-6)
