"""The NumPy backend: every variant written out by hand (forward, backward, update), on the CPU.

It is registered through the ``mnistbench.backends`` entry point, exactly as a third-party
backend would be, and serves as the reference the conformance suite compares other backends to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.backend import EpochResult, TrainSpec
from mnistbench_numpy import dropout_mlp, mlp, mnn, predictive_coding, sigmoid_mlp

MODELS = {
    "mlp": mlp,
    "sigmoid_mlp": sigmoid_mlp,
    "dropout_mlp": dropout_mlp,
    "mnn": mnn,
    "predictive_coding": predictive_coding,
}


class NumpyBackend:
    """Trains and predicts with hand-written NumPy, float32 throughout."""

    name = "numpy"
    version = np.__version__
    variants = frozenset(MODELS)
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state

    def unavailable_reason(self) -> str | None:
        return None

    def devices(self) -> list[str]:
        return ["cpu"]

    def train(self, spec: TrainSpec) -> Iterator[EpochResult]:
        return MODELS[spec.variant].train(spec)

    def predict(
        self,
        variant: str,
        hyperparameters: Mapping[str, Any],
        weights: Mapping[str, np.ndarray],
        x: np.ndarray,
        device: str,
    ) -> np.ndarray:
        return MODELS[variant].predict(weights, x, hyperparameters)


@hookimpl
def mnistbench_register_backends():
    return [NumpyBackend()]
