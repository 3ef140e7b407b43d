"""LeNet-5 through the conformance suites: the variant's own (deterministic weights and plan,
reference loss falls, contract complete) and each backend's on the (lenet, backend) pair, the
PyTorch and JAX ones on CUDA too where there is a GPU (skipped elsewhere)."""

import pytest

from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import BackendConformance
from mnistbench.plugin.variant_conformance import VariantConformance


class TestLenetVariant(VariantConformance):
    variant = "lenet"


class TestLenetNumpy(BackendConformance):
    backend = "numpy"
    variants = ("lenet",)


class TestLenetTorch(BackendConformance):
    backend = "torch"
    variants = ("lenet",)


class TestLenetJax(BackendConformance):
    backend = "jax"
    variants = ("lenet",)


def _has_cuda(backend: str) -> bool:
    return "cuda" in load_backends().get(backend).devices()


@pytest.mark.skipif(not _has_cuda("torch"), reason="no CUDA device for PyTorch here")
class TestLenetTorchCuda(BackendConformance):
    backend = "torch"
    device = "cuda"
    variants = ("lenet",)


@pytest.mark.skipif(not _has_cuda("jax"), reason="no CUDA device for JAX here")
class TestLenetJaxCuda(BackendConformance):
    backend = "jax"
    device = "cuda"
    variants = ("lenet",)
