"""The conformance suite every backend passes: losses, predictions and weights against NumPy, on
the CPU and, where JAX sees a CUDA GPU, on it too (skipped elsewhere, CI included)."""

import pytest

from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import BackendConformance


class TestJaxConformance(BackendConformance):
    backend = "jax"


@pytest.mark.skipif(
    "cuda" not in load_backends().get("jax").devices(), reason="no CUDA device for JAX here"
)
class TestJaxCudaConformance(BackendConformance):
    backend = "jax"
    device = "cuda"
