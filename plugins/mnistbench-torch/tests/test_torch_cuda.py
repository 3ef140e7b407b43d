"""The PyTorch backend on a CUDA GPU: same computation as the NumPy reference, deterministic.

Skipped where no CUDA device is present (CI has none); run it on a GPU machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import BackendConformance, step_losses
from mnistbench.training.train import build_spec, resolve_device
from mnistbench.variants import get_variant

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
REGISTRY = load_backends()


@pytest.fixture(scope="module")
def spec(sample_dir):
    data = datasets.load(sample_dir, train_limit=400)
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"epochs": 1})
    return build_spec(variant, hp, data.train_images, data.train_labels, 0, "cuda")


def test_auto_device_takes_cuda_when_present():
    assert resolve_device(REGISTRY.get("torch"), "auto") == "cuda"


def test_cuda_losses_agree_with_numpy_for_50_steps(spec):
    np.testing.assert_allclose(
        step_losses(REGISTRY.get("torch"), spec),
        step_losses(REGISTRY.get("numpy"), spec),
        rtol=1e-4,
    )


def test_cuda_training_is_deterministic(spec):
    np.testing.assert_array_equal(
        step_losses(REGISTRY.get("torch"), spec), step_losses(REGISTRY.get("torch"), spec)
    )


class TestTorchCudaConformance(BackendConformance):
    """The whole conformance suite, with the PyTorch backend on the GPU against NumPy."""

    backend = "torch"
    device = "cuda"
