"""bench/seed_loops: the seed notebooks' loops that bench/speed.py times beside the backends run on
the core's TrainSpec, learn, and, where the seed's math is the variant's, start from the same
first-step loss as the NumPy backend, so the benchmark compares like with like."""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS
from tests.conftest import REPO

pytest.importorskip("torch")  # two of the seed loops are PyTorch's; the benchmark needs it


@pytest.fixture(scope="module")
def seed_loops(sample_dir):
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import seed_loops
    finally:
        sys.path.remove(str(REPO / "bench"))
    return seed_loops


@pytest.fixture(scope="module")
def data(sample_dir):
    return datasets.load(sample_dir, train_limit=256, test_limit=16)


# Few steps per variant: the first epoch of each, cut short.
SHORT = {
    "mlp": {"epochs": 2},
    "sigmoid_mlp": {"iterations": 10, "log_every": 5},
    "dropout_mlp": {"train_samples": 64, "epochs": 2},
    "mnn": {"epochs": 2},
}


def spec_for(variant_name: str, data):
    variant = VARIANTS[variant_name]
    hp = variant.hyperparameters(SHORT[variant_name])
    return build_spec(variant, hp, data.train_images, data.train_labels, 0, "cpu")


def backend_first_loss(spec) -> float:
    backend = load_backends().get("numpy")
    return float(backend.setup(spec).train_epoch(0).losses[0])


@pytest.mark.parametrize("variant_name", sorted(SHORT))
def test_every_seed_loop_runs_and_its_loss_falls(seed_loops, data, variant_name):
    for loop in seed_loops.LOOPS[variant_name]:
        run_epoch = loop.prepare(spec_for(variant_name, data))
        first, second = run_epoch(0), run_epoch(1)
        assert np.isfinite(first) and np.isfinite(second), loop.name
        if variant_name != "sigmoid_mlp":  # 5 noisy steps at lr 0.001 on raw pixels: no trend
            assert second < first, loop.name


def test_mlp_numpy_seed_starts_where_the_backend_does(seed_loops, data):
    spec = spec_for("mlp", data)
    seed_loss = seed_loops.seed004_mlp_numpy.prepare(spec)(0)
    assert seed_loss == pytest.approx(backend_first_loss(spec), rel=1e-5)


def test_dropout_seed_with_the_cores_masks_starts_where_the_backend_does(seed_loops, data):
    spec = spec_for("dropout_mlp", data)
    seed_error = seed_loops.seed001_dropout_numpy.prepare(spec, masks=True)(0)
    # the seed's error is sum (out - target)^2; the variant's loss is half of it
    assert seed_error / 2 == pytest.approx(backend_first_loss(spec), rel=1e-5)


def test_mlp_torch_seed_computes_its_softmax_over_the_batch(seed_loops, data):
    """The twin keeps the seed's Softmax(dim=0) (so it is not the variant's loss): its first loss
    is cross-entropy of the batch-axis softmax, computed here in float64 from the same start."""
    spec = spec_for("mlp", data)
    w = {k: v.astype(np.float64) for k, v in spec.initial_weights.items()}
    x = spec.x_train[: spec.batch_size].astype(np.float64)
    logits = np.maximum(x @ w["W1"] + w["b1"], 0) @ w["W2"] + w["b2"]
    p = np.exp(logits) / np.exp(logits).sum(axis=0)  # softmax over the batch
    log_q = p - np.log(np.exp(p).sum(axis=1, keepdims=True))  # CrossEntropyLoss's log-softmax
    expected = -np.mean(log_q[np.arange(len(x)), spec.y_train[: len(x)]])
    assert seed_loops.seed004_mlp_torch.prepare(spec)(0) == pytest.approx(expected, rel=1e-5)


def test_every_backend_is_compared_with_a_seed_of_its_own_framework_where_there_is_one(
    seed_loops,
):
    assert seed_loops.baseline("mlp", "torch").name == "seed 004 PyTorch"
    assert seed_loops.baseline("mlp", "numpy").name == "seed 004 NumPy"
    assert seed_loops.baseline("mlp", "jax").name == "seed 004 NumPy"
    assert seed_loops.baseline("mnn", "numpy").name == "seed 000 PyTorch"
    assert seed_loops.baseline("predictive_coding", "numpy") is None


def test_mnn_seeds_loader_hands_out_the_variants_inputs(seed_loops, data):
    """The seed's per-sample ToTensor and Normalize, from the pixels recovered from the core's
    inputs, give back those inputs: the seed loop trains on the backends' data."""
    spec = spec_for("mnn", data)
    seed000 = seed_loops.seed000_mnn_torch
    pixels = seed000.pixels_of(spec.x_train)
    np.testing.assert_array_equal(pixels, data.train_images.reshape(len(pixels), -1))
    dataset = seed000.SeedMNIST(pixels, spec.y_train)
    for index in (0, 7, 255):
        image, label = dataset[index]
        assert image.shape == (1, 28, 28) and label == spec.y_train[index]
        np.testing.assert_allclose(image.numpy().reshape(-1), spec.x_train[index], atol=1e-5)
