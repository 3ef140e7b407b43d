"""``predictive_coding``: its updates are gradients of its energy, both backends compute the same
thing, training lowers the energy, and no label reaches test-time prediction."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.plugin.backend import EpochResult, train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import build_spec
from mnistbench.variants import predictive_coding as variant
from mnistbench_numpy import predictive_coding as pc_numpy

STEPS_PER_EPOCH = 20  # 1,280 images / batch 64


@pytest.fixture(scope="module")
def data(sample_dir):
    return datasets.load(sample_dir, train_limit=64 * STEPS_PER_EPOCH, test_limit=256)


def make_spec(data, labels=None, seed=0, **overrides):
    hp = variant.VARIANT.hyperparameters(overrides)
    labels = data.train_labels if labels is None else labels
    return build_spec(variant.VARIANT, hp, data.train_images, labels, seed, "cpu")


def torch_module():
    pytest.importorskip("torch", reason="PyTorch is not installed")
    from mnistbench_torch import predictive_coding

    return predictive_coding


def train(module, spec) -> list[EpochResult]:
    """Every epoch of ``spec``, trained by the backend that ``module`` (a variant module) is in."""
    backend = module.__name__.split(".")[0].removeprefix("mnistbench_")
    return train_all(load_backends().get(backend), spec)


def step_losses(module, spec) -> np.ndarray:
    return np.concatenate([epoch.losses for epoch in train(module, spec)])


# --- the updates are gradients of the energy (float64, central differences) -------------------


@pytest.fixture(scope="module")
def problem(data):
    """float64 weights, 16 images, one-hot labels and hidden states kept away from ReLU's kink."""
    spec = make_spec(data, seed=1)
    w = {k: v.astype(np.float64) for k, v in spec.initial_weights.items()}
    # b2 = 0 at initialisation would make its check trivial; give every weight some value.
    rng = np.random.default_rng(0)
    w = {k: v + 0.01 * rng.standard_normal(v.shape) for k, v in w.items()}
    x0 = spec.x_train[:16].astype(np.float64)
    x2 = np.eye(10)[spec.y_train[:16]]
    x1 = rng.standard_normal((16, int(spec.hyperparameters["hidden"])))
    x1 += np.where(x1 >= 0, 0.1, -0.1)  # |x1| >= 0.1: a 1e-6 step never crosses 0
    return w, x0, x1, x2


def numerical_gradient(f, x: np.ndarray, entries: list[tuple], h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f(x) at the given entries of x (restored afterwards)."""
    out = []
    for i in entries:
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        out.append((up - down) / (2 * h))
    return np.array(out)


def some_entries(shape, n=12, seed=0):
    rng = np.random.default_rng(seed)
    return [tuple(int(rng.integers(s)) for s in shape) for _ in range(n)]


def test_state_gradient_is_the_gradient_of_each_samples_energy(problem):
    w, x0, x1, x2 = problem
    x1 = x1.copy()
    n = len(x0)
    e1, e2 = pc_numpy.prediction_errors(w, pc_numpy.bottom_up(w, x0), x1, x2)
    analytic = pc_numpy.state_gradient(w, x1, e1, e2)
    entries = some_entries(x1.shape)
    # each sample's own energy is n times its share of the batch mean
    numeric = numerical_gradient(lambda: n * pc_numpy.energy(w, x0, x1, x2), x1, entries)
    np.testing.assert_allclose([analytic[i] for i in entries], numeric, rtol=1e-6, atol=1e-8)


def test_one_relaxation_step_moves_x1_by_minus_rate_times_dF_dx1(problem):
    """relax starts x1 at mu1 and its first step is x1 - rate * dF/dx1 (here by differences)."""
    w, x0, _, x2 = problem
    mu1 = pc_numpy.bottom_up(w, x0)
    rate, n = 0.1, len(x0)
    x1, _, _ = pc_numpy.relax(w, x0, x2, steps=1, rate=rate)
    start = mu1.copy()
    entries = [i for i in some_entries(mu1.shape, n=40, seed=1) if abs(mu1[i]) > 1e-3][:12]
    numeric = numerical_gradient(lambda: n * pc_numpy.energy(w, x0, start, x2), start, entries)
    np.testing.assert_allclose(
        [x1[i] for i in entries], [mu1[i] for i in entries] - rate * numeric, rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("key", ["W1", "b1", "W2", "b2"])
def test_weight_updates_are_minus_dF_dW_at_fixed_states(problem, key):
    w, x0, x1, x2 = problem
    w = {k: v.copy() for k, v in w.items()}
    e1, e2 = pc_numpy.prediction_errors(w, pc_numpy.bottom_up(w, x0), x1, x2)
    analytic = pc_numpy.weight_gradients(w, x0, x1, e1, e2)[key]
    entries = some_entries(w[key].shape)
    if key == "W1":  # rows of W1 for blank pixels have zero gradient; test lit ones too
        lit = np.flatnonzero(x0.sum(axis=0) > 0)
        entries += [(int(p), j) for p, j in zip(lit[:: len(lit) // 8], range(8))]
    numeric = numerical_gradient(lambda: pc_numpy.energy(w, x0, x1, x2), w[key], entries)
    assert np.abs(numeric).max() > 1e-4  # the check is not vacuous
    np.testing.assert_allclose([analytic[i] for i in entries], numeric, rtol=1e-6, atol=1e-9)


def test_a_training_step_is_relaxation_then_minus_lr_times_dF_dW(data):
    """One batch through the training loop equals relax followed by W -= lr * weight_gradients."""
    spec = make_spec(data, epochs=1, batch_size=64 * STEPS_PER_EPOCH)  # a single step
    hp = spec.hyperparameters
    [epoch] = train(pc_numpy, spec)
    w = {k: v.copy() for k, v in spec.initial_weights.items()}
    batch = spec.epochs[0]
    x0, x2 = spec.x_train[batch], np.eye(10, dtype=np.float32)[spec.y_train[batch]]
    rate, lr = np.float32(hp["inference_rate"]), np.float32(hp["lr"])
    x1, e1, e2 = pc_numpy.relax(w, x0, x2, int(hp["inference_steps"]), rate)
    assert epoch.losses[0] == pytest.approx(pc_numpy.energy_of(e1, e2))
    for key, grad in pc_numpy.weight_gradients(w, x0, x1, e1, e2).items():
        np.testing.assert_allclose(epoch.weights[key], w[key] - lr * grad, rtol=1e-6, atol=1e-7)


# --- both backends, same computation; training lowers the energy ----------------------------


def test_numpy_and_torch_step_losses_agree_to_1e_5_over_40_steps(data):
    """Same float32 arithmetic in the same order: measured agreement is ~2e-7 relative."""
    spec = make_spec(data, epochs=2)
    reference, other = step_losses(pc_numpy, spec), step_losses(torch_module(), spec)
    assert len(reference) == 2 * STEPS_PER_EPOCH
    np.testing.assert_allclose(other, reference, rtol=1e-5)


def test_numpy_and_torch_end_with_the_same_weights(data):
    spec = make_spec(data, epochs=1)
    [reference] = train(pc_numpy, spec)
    [other] = train(torch_module(), spec)
    for key, value in reference.weights.items():
        np.testing.assert_allclose(other.weights[key], value, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_each_backend_lowers_the_energy(backend, data):
    module = pc_numpy if backend == "numpy" else torch_module()
    losses = step_losses(module, make_spec(data, epochs=3))
    assert np.all(np.isfinite(losses))
    assert losses[-STEPS_PER_EPOCH:].mean() < 0.6 * losses[:STEPS_PER_EPOCH].mean()


# --- no label at test time -------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_predict_takes_no_labels(backend):
    module = pc_numpy if backend == "numpy" else torch_module()
    params = list(inspect.signature(module.predict).parameters)
    assert params[:3] == ["w", "x", "hp"] and set(params) <= {"w", "x", "hp", "device"}


def test_prediction_is_where_label_free_relaxation_ends(data):
    """Relaxing x1 and x2 together with no label clamped, from states away from the feedforward
    pass, lowers F to 0 and lands x2 on what predict returns: the label-free minimum."""
    spec = make_spec(data, epochs=1)
    [epoch] = train(pc_numpy, spec)
    w = {k: v.astype(np.float64) for k, v in epoch.weights.items()}
    x0 = spec.x_train[:128].astype(np.float64)
    rng = np.random.default_rng(0)
    x1 = x0 @ w["W1"] + w["b1"] + 0.3 * rng.standard_normal((128, w["W1"].shape[1]))
    x2 = np.zeros((128, 10))
    start = variant.reference_energy(w, x0, x1, x2)
    for _ in range(400):  # gradient descent on F = 1/2 |e1|^2 + 1/2 |e2|^2 in both states
        e1 = x1 - (x0 @ w["W1"] + w["b1"])
        e2 = x2 - (np.maximum(x1, 0) @ w["W2"] + w["b2"])
        x1, x2 = x1 - 0.2 * (e1 - (x1 > 0) * (e2 @ w["W2"].T)), x2 - 0.2 * e2
    assert start > 1.0 and variant.reference_energy(w, x0, x1, x2) < 1e-8 * start
    scores = pc_numpy.predict(epoch.weights, spec.x_train[:128], spec.hyperparameters)
    np.testing.assert_allclose(scores, x2, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_each_prediction_reads_only_its_own_image(backend, data):
    """Scores of an image are the same alone as inside any batch: neither the labels nor the
    other samples of a batch reach test-time inference. Both backends agree on the classes."""
    module = pc_numpy if backend == "numpy" else torch_module()
    spec = make_spec(data, epochs=1)
    [epoch] = train(module, spec)
    hp = spec.hyperparameters
    x_test = variant.prepare_inputs(data.test_images, hp)
    args = () if backend == "numpy" else ("cpu",)

    batch = module.predict(epoch.weights, x_test, hp, *args)  # (256, 10)
    alone = np.concatenate(
        [module.predict(epoch.weights, x_test[i : i + 1], hp, *args) for i in range(8)]
    )
    reordered = module.predict(epoch.weights, x_test[::-1].copy(), hp, *args)[::-1]
    np.testing.assert_allclose(alone, batch[:8], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(reordered.argmax(1), batch.argmax(1))
    reference = pc_numpy.predict(epoch.weights, x_test, hp)
    assert np.mean(batch.argmax(1) == reference.argmax(1)) == 1.0
    assert np.mean(batch.argmax(1) == data.test_labels) > 0.5  # and it has learned something


def test_training_with_other_labels_changes_the_weights_but_predict_reads_only_images(data):
    """The label drives learning (it is clamped during training) and nothing else."""
    spec = make_spec(data, epochs=1)
    wrong = (data.train_labels.astype(np.int64) + 1) % 10
    [right_epoch] = train(pc_numpy, spec)
    [wrong_epoch] = train(pc_numpy, make_spec(data, labels=wrong, epochs=1))
    assert not np.allclose(right_epoch.weights["W2"], wrong_epoch.weights["W2"])


# --- the core side ---------------------------------------------------------------------------


def test_plan_visits_every_image_once_per_epoch_in_a_fresh_order(data):
    spec = make_spec(data, epochs=2)
    n = len(data.train_images)
    for order in spec.epochs:
        assert order.dtype == np.int64
        np.testing.assert_array_equal(np.sort(order), np.arange(n))
    assert not np.array_equal(spec.epochs[0], spec.epochs[1])


def test_the_seeds_training_batch_score_is_not_quoted_as_a_test_accuracy():
    assert np.isnan(variant.VARIANT.seed_accuracy)
    assert "label" in variant.VARIANT.seed_fix
