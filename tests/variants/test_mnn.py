"""The ``mnn`` variant (seed 000): the hand-written NumPy gradient is right, NumPy and PyTorch
compute the same training run, both learn, the bias neuron is 784 (the seed used 785), and on 26
classes of 32 x 32 images every backend lays the neurons out from the data and trains as the
float64 arithmetic does."""

from __future__ import annotations

import numpy as np
import pytest

import mnistbench_numpy.mnn as numpy_mnn
import mnistbench_torch.mnn as torch_mnn
from mnistbench.data import datasets
from mnistbench.data.shapes import Shape
from mnistbench.errors import MnistbenchError
from mnistbench.plugin import layouts
from mnistbench.plugin.backend import train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import first_step
from mnistbench.training.train import build_spec
from mnistbench.variants import mnn, reference

VARIANT = mnn.VARIANT
HP = VARIANT.hyperparameters()
N = mnn.n_neurons(HP)  # 895
MNIST_LAYOUT = mnn.layout(HP)
BIAS, FREE, PIXELS = MNIST_LAYOUT.bias, MNIST_LAYOUT.free, MNIST_LAYOUT.pixels
LETTERS = Shape(32, 32, 26)  # EMNIST letters' 26 classes on 32 x 32 crops
BACKENDS = ["numpy", "torch", "jax"]


@pytest.fixture(scope="module")
def images_and_labels(sample_dir):
    data = datasets.load(sample_dir, train_limit=1536)
    return data.train_images, data.train_labels


def spec_for(images, labels, seed=0, **overrides):
    return build_spec(VARIANT, VARIANT.hyperparameters(overrides), images, labels, seed, "cpu")


def run(backend, spec):
    """Train ``spec`` with ``backend``; return every step's loss and the final weights."""
    epochs = train_all(load_backends().get(backend), spec)
    return np.concatenate([epoch.losses for epoch in epochs]), epochs[-1].weights


def test_inputs_are_normalised_and_every_epoch_is_a_fresh_permutation(images_and_labels):
    images, labels = images_and_labels
    spec = spec_for(images[:100], labels[:100], epochs=3)
    expected = (images[:100].reshape(100, -1) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(spec.x_train, expected, rtol=1e-5, atol=1e-5)
    assert spec.initial_weights["A"].shape == (N, N) and spec.batch_size == 64
    for order in spec.epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(100))
    assert not np.array_equal(spec.epochs[0], spec.epochs[1])


def test_numpy_gradient_matches_central_finite_differences(images_and_labels):
    # float64 throughout; A ~ U(0, 0.01) so the loss is ~2.3 and a step of 1e-6 resolves it
    images, labels = images_and_labels
    rng = np.random.default_rng(0)
    A = VARIANT.initial_weights(rng, {**HP, "init_scale": 0.01})["A"].astype(np.float64)
    x = VARIANT.prepare_inputs(images[:4], HP).astype(np.float64)
    y = labels[:4].astype(np.int64)
    _, grads = numpy_mnn.loss_and_gradients({"A": A}, x, y, HP)
    # entries into every kind of free neuron from every kind of neuron, plus two into clamped
    # neurons (zero gradient: the clamp overwrites their values every tick)
    named = [(BIAS, N - 1), (FREE, N - 1), (N - 5, FREE + 3), (FREE + 50, N - 10),
             (N - 1, N - 1), (300, FREE + 10), (100, 100), (FREE + 20, 5)]  # fmt: skip
    sampled = zip(rng.integers(0, N, 24), rng.integers(FREE, N, 24))
    entries = named + [(int(i), int(j)) for i, j in sampled]
    h = 1e-6
    for i, j in entries:
        plus, minus = A.copy(), A.copy()
        plus[i, j] += h
        minus[i, j] -= h
        numeric = (
            numpy_mnn.loss_and_gradients({"A": plus}, x, y, HP)[0]
            - numpy_mnn.loss_and_gradients({"A": minus}, x, y, HP)[0]
        ) / (2 * h)
        assert grads["A"][i, j] == pytest.approx(numeric, rel=1e-5, abs=1e-9), (i, j)
    assert not grads["A"][:, :FREE].any()
    assert np.count_nonzero([grads["A"][i, j] for i, j in entries]) >= len(entries) // 2


def test_numpy_and_torch_losses_agree_for_24_adam_steps(images_and_labels):
    # A ~ U(0, 0.01) (loss ~2.3): 1536 images / batch 64 = 24 steps. Measured max relative
    # difference 2.3e-7, about NumPy float32 against NumPy float64 (2.5e-7): rounding only.
    spec = spec_for(*images_and_labels, init_scale=0.01, epochs=1)
    reference, other = run("numpy", spec)[0], run("torch", spec)[0]
    assert len(reference) == 24
    np.testing.assert_allclose(other, reference, rtol=1e-5)


def test_numpy_and_torch_losses_agree_from_the_default_init(images_and_labels):
    # A ~ U(0, 0.1), 20 steps: max relative difference 3.0e-6 here, at most 6.8e-6 over four
    # seeds and two slices of the data (float32 rounding); the first loss is ~4-11.
    images, labels = images_and_labels
    spec = spec_for(images[:1280], labels[:1280], epochs=1)
    reference, other = run("numpy", spec)[0], run("torch", spec)[0]
    assert len(reference) == 20
    np.testing.assert_allclose(other, reference, rtol=1e-4)


def test_numpy_and_torch_losses_agree_from_the_seeds_init(images_and_labels):
    # With the seed's A ~ U(0, 1) the logits are ~1e3-1e4 and Adam's first steps move every
    # weight by ~lr whatever the gradient's size, so float32 rounding grows step by step. Here
    # NumPy against PyTorch measured 2.2e-5 and NumPy float32 against float64 3.9e-5; on other
    # seeds and slices, over 20 steps, up to 1.2e-4 and 6.7e-4. Hence rtol 1e-3, not 1e-4; the
    # tests above are the tight ones.
    images, labels = images_and_labels
    spec = spec_for(images[:1280], labels[:1280], epochs=1, **VARIANT.seed_recipe)
    reference, other = run("numpy", spec)[0], run("torch", spec)[0]
    assert len(reference) == 20
    np.testing.assert_allclose(other, reference, rtol=1e-3)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_each_backend_lowers_the_loss_and_keeps_the_clamped_columns(backend, images_and_labels):
    images, labels = images_and_labels
    spec = spec_for(images[:320], labels[:320], epochs=8)  # 5 steps per epoch
    losses, weights = run(backend, spec)
    assert losses[-5:].mean() < 0.5 * losses[:5].mean()
    A = spec.initial_weights["A"]
    np.testing.assert_array_equal(weights["A"][:, :FREE], A[:, :FREE])  # gradient exactly 0
    assert not np.array_equal(weights["A"][:, FREE:], A[:, FREE:])


@pytest.mark.parametrize("hidden", [100, 6, 22])
def test_the_padded_training_matrix_holds_the_free_columns_and_reads_back_exactly(hidden):
    """Free neurons padded to a multiple of 16 after the hidden ones: the outputs stay the last
    columns, the padding is zero, and the trained matrix reads back to A unchanged."""
    n = mnn.n_neurons({"hidden": hidden})
    A = np.random.default_rng(hidden).random((n, n), dtype=np.float32) + 1  # no zero entry
    layout = mnn.layout({"hidden": hidden})
    W = layouts.padded_free_columns(A, layout)
    free, width = hidden + 10, -(-(hidden + 10) // 16) * 16
    assert W.shape == (FREE + width, width) and W.dtype == np.float32
    np.testing.assert_array_equal(W[:, -10:][: FREE + hidden], A[: FREE + hidden, -10:])
    np.testing.assert_array_equal(W[-10:, -10:], A[-10:, -10:])
    padding = np.r_[hidden : width - 10]
    assert (W[:, padding] == 0).all() and (W[FREE + padding] == 0).all()
    assert np.count_nonzero(W) == (FREE + free) * free
    np.testing.assert_array_equal(layouts.trained_matrix(A, W, layout), A)


TRAINED_MATRIX = {  # where each backend's trainer keeps the padded W it trains
    "numpy": lambda trainer: trainer.p["W"],
    "torch": lambda trainer: trainer.w["W"].numpy(),
    # JAX trains the matrix as its pixel rows, bias row and free rows (mnistbench_jax.mnn.parts).
    "jax": lambda trainer: np.concatenate(
        [trainer.w.pixels, np.asarray(trainer.w.bias)[None], trainer.w.free]
    ),
}


@pytest.mark.parametrize("backend", sorted(TRAINED_MATRIX))
def test_the_padding_neurons_stay_zero_through_training(backend, images_and_labels):
    """Their gradient is exactly zero, so Adam never moves them off zero, and the whole run is
    that of the unpadded matrix (the losses agree with the float64 arithmetic elsewhere)."""
    images, labels = images_and_labels
    spec = spec_for(images[:320], labels[:320], epochs=2)
    trainer = load_backends().get(backend).setup(spec)
    for epoch in range(2):
        trainer.train_epoch(epoch)
    W = np.asarray(TRAINED_MATRIX[backend](trainer))
    padding = np.r_[100 : W.shape[1] - 10]
    assert len(padding) == 2
    assert (W[:, padding] == 0).all() and (W[FREE + padding] == 0).all()
    assert np.count_nonzero(W) > 0.99 * (N * (N - FREE))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_the_bias_neuron_is_784(backend, images_and_labels):
    # Only the bias neuron feeds the last output: that output is relu(1 * 1) = 1 for any image.
    # With the seed's bug (bias written to neuron 785, neuron 784 left at 0) it would be 0.
    x = VARIANT.prepare_inputs(images_and_labels[0][:8], HP)
    A = np.zeros((N, N), np.float32)
    A[BIAS, N - 1] = 1
    assert BIAS == PIXELS == 784

    def predict(A):
        if backend == "numpy":
            return numpy_mnn.predict({"A": A}, x, HP)
        return torch_mnn.predict({"A": A}, x, HP, "cpu")

    expected = np.zeros((8, 10), np.float32)
    expected[:, -1] = 1
    np.testing.assert_array_equal(predict(A), expected)
    # the seed's bias position, 785, is the first hidden neuron: it is never 1 by itself
    A = np.zeros((N, N), np.float32)
    A[FREE, N - 1] = 1
    np.testing.assert_array_equal(predict(A), np.zeros((8, 10), np.float32))


def test_the_default_init_is_uniform_to_a_tenth_and_the_seed_recipe_puts_back_uniform_to_1():
    rng = np.random.default_rng(0)
    default = VARIANT.initial_weights(rng, HP)["A"]
    seeds_own = VARIANT.initial_weights(rng, VARIANT.hyperparameters(VARIANT.seed_recipe))["A"]
    assert default.min() >= 0 and 0.099 < default.max() < 0.1
    assert seeds_own.min() >= 0 and 0.99 < seeds_own.max() < 1
    assert default.mean() == pytest.approx(0.05, rel=1e-2)
    assert seeds_own.mean() == pytest.approx(0.5, rel=1e-2)


def letters_spec(samples=96, **overrides):
    """A short run on seeded noise images, 26 classes of 32 x 32 pixels."""
    rng = np.random.default_rng(26)
    images = rng.integers(0, 256, (samples, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 26, samples, dtype=np.uint8)
    hp = VARIANT.hyperparameters({**VARIANT.small, **overrides})
    return build_spec(VARIANT, hp, images, labels, 0, "cpu", LETTERS)


def test_the_neurons_follow_the_image_size_and_the_classes():
    """1024 pixel neurons, the bias neuron 1024, 100 hidden, 26 outputs: 1151 in all."""
    layout = mnn.layout(HP, LETTERS)
    assert (layout.pixels, layout.bias, layout.free, layout.neurons) == (1024, 1024, 1025, 1151)
    assert letters_spec().initial_weights["A"].shape == (1151, 1151)
    assert mnn.layout_of(1151, 1024, hidden=100) == layout
    assert mnn.layout_of(1151, 1024, classes=26) == layout
    assert VARIANT.refuses(LETTERS) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_letters_each_backend_trains_as_the_float64_arithmetic(backend):
    """24 Adam steps on 26 classes of 32 x 32 images: the first step moves every weight the
    float64 reference moves, the same way; every loss matches the reference's; A[:, :1025]
    stays as it was; predict gives 26 scores per image, the reference's."""
    spec = letters_spec()
    the_backend = load_backends().get(backend)
    [result] = train_all(the_backend, first_step(spec))
    [expected_losses], [expected] = reference.train(first_step(spec))
    assert result.losses[0] == pytest.approx(expected_losses[0], rel=1e-5)
    A = spec.initial_weights["A"]
    move, expected_move = result.weights["A"] - A, expected["A"] - A
    # Adam's first move is lr * g / (|g| + 1e-8): where |g| is near 1e-8 (hidden to hidden, from
    # U(0, 0.01)), float32 rounding of g (~1e-9 here) changes it by up to 5%; elsewhere it is
    # lr * sign(g), or 0 where g is 0
    clear = (np.abs(expected_move) > 0.99e-3) | (expected_move == 0)
    assert clear.mean() > 0.9
    np.testing.assert_allclose(move[clear], expected_move[clear], rtol=0, atol=1e-5)
    losses, weights = run(backend, spec)
    reference_losses, _ = reference.train(spec)
    assert len(losses) == 24
    np.testing.assert_allclose(losses, np.concatenate(reference_losses), rtol=1e-4)
    np.testing.assert_array_equal(weights["A"][:, :1025], A[:, :1025])
    x = spec.x_train[:16]
    scores = the_backend.predict("mnn", spec.hyperparameters, weights, x, "cpu")
    expected_scores = reference.predict("mnn", spec.hyperparameters, weights, x)
    assert scores.shape == (16, 26)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_letters_the_bias_neuron_is_1024_and_the_outputs_the_last_26(backend):
    # Only the bias neuron feeds the last output: it is relu(1 * 1) = 1 for any image.
    x = letters_spec().x_train[:4]
    A = np.zeros((1151, 1151), np.float32)
    A[1024, 1150] = 1
    scores = load_backends().get(backend).predict("mnn", HP, {"A": A}, x, "cpu")
    expected = np.zeros((4, 26), np.float32)
    expected[:, -1] = 1
    np.testing.assert_array_equal(scores, expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mnist_weights_on_letters_are_refused_in_one_line(backend):
    x = letters_spec().x_train[:4]
    A = np.zeros((N, N), np.float32)
    with pytest.raises(MnistbenchError) as refused:
        load_backends().get(backend).predict("mnn", HP, {"A": A}, x, "cpu")
    assert str(refused.value) == (
        "variant 'mnn': a 895 x 895 matrix A does not fit 1024 pixels + 1 bias + 100 hidden "
        "neurons: it was made for another image size, number of classes or 'hidden'"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_letters_the_padding_neurons_stay_zero(backend):
    """1024 + 1 + 100 + 26: 126 free neurons padded to 128, the two padding ones after the
    hidden, zero through training."""
    spec = letters_spec()
    trainer = load_backends().get(backend).setup(spec)
    trainer.train_epoch(0)
    W = np.asarray(TRAINED_MATRIX[backend](trainer))
    assert W.shape == (1025 + 128, 128)
    padding = np.r_[100:102]
    assert (W[:, padding] == 0).all() and (W[1025 + padding] == 0).all()
    assert np.count_nonzero(W) > 0.99 * (1151 * 126)
