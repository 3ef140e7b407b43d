"""The NumPy backend: every variant written out by hand (forward, backward, update), on the CPU.

Each variant module gives one training step, ``STEP``, and ``predict``;
:mod:`mnistbench_numpy.loop` is the one training loop they all plug into. The backend is
registered through the ``mnistbench.backends`` entry point, exactly as a third-party backend
would be, and serves as the reference the conformance suite compares other backends to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.backend import TrainSpec
from mnistbench_numpy import dropout_mlp, loop, mlp, mnn, predictive_coding, sigmoid_mlp

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements

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

    def setup(self, spec: TrainSpec) -> loop.Trainer:
        return loop.Trainer(spec, MODELS[spec.variant])

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
