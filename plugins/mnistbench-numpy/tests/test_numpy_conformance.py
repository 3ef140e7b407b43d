"""The conformance suite every backend passes: losses, predictions and weights against NumPy."""

from mnistbench.testing import BackendConformance


class TestNumpyConformance(BackendConformance):
    backend = "numpy"
