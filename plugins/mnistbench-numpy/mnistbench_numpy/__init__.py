"""The NumPy backend: every variant written out by hand (forward, backward, update), on the CPU.

Each variant module gives one training step, ``STEP``, and ``predict``;
:mod:`mnistbench_numpy.loop` is the one training loop they all plug into. The backend is
registered through the ``mnistbench.backends`` entry point, exactly as a third-party backend
would be, and serves as the reference the conformance suite compares other backends to.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.plugin.backend import Trainer, TrainSpec

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements
VARIANTS = ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding")


def _module(variant: str):
    """The variant's module, imported when first used (with SciPy), not when listing backends."""
    return importlib.import_module(f"mnistbench_numpy.{variant}")


class NumpyBackend:
    """Trains and predicts with hand-written NumPy, float32 throughout."""

    name = "numpy"
    version = np.__version__
    variants = frozenset(VARIANTS)
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state

    def unavailable_reason(self) -> str | None:
        return None

    def devices(self) -> list[str]:
        return ["cpu"]

    def setup(self, spec: TrainSpec) -> Trainer:
        from mnistbench_numpy import loop

        return loop.Trainer(spec, _module(spec.variant))

    def predict(
        self,
        variant: str,
        hyperparameters: Mapping[str, Any],
        weights: Mapping[str, np.ndarray],
        x: np.ndarray,
        device: str,
    ) -> np.ndarray:
        return _module(variant).predict(weights, x, hyperparameters)


@hookimpl
def mnistbench_register_backends():
    return [NumpyBackend()]
