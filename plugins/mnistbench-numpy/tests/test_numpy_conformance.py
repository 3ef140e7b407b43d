"""The conformance suite every backend passes: losses, predictions and weights against NumPy."""

from mnistbench.plugin.testing import BackendConformance


class TestNumpyConformance(BackendConformance):
    backend = "numpy"
