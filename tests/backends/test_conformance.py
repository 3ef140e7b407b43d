"""The conformance suite that plugin authors run, run on both built-in backends."""

from __future__ import annotations

from mnistbench.testing import BackendConformance


class TestNumpyConformance(BackendConformance):
    backend = "numpy"


class TestTorchConformance(BackendConformance):
    backend = "torch"
