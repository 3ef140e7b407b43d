"""The NumPy backend: every variant written out by hand (forward, backward, update), on the CPU.

Each variant module gives one training step, ``STEP``, and ``predict``;
:mod:`mnistbench_numpy.loop` is the one training loop they all plug into. That is the NumPy step
protocol (``docs/step-protocol.md``, version :data:`STEP_PROTOCOL`): a variant plugin that ships
a module written to it (``Variant.steps``) is trained by the same loop. The backend is
registered through the ``mnistbench.backends`` entry point, exactly as a third-party backend
would be, and serves as the reference the conformance suite compares other backends to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.plugin import (
    StepProtocol,
    Trainer,
    TrainSpec,
    backend_variants,
    hookimpl,
    scores_in_chunks,
    variant_module,
)

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements
STEP_PROTOCOL = 1  # the version of the NumPy step protocol the loop speaks
# What a step module must define at that version (docs/step-protocol.md): checked on loading it.
STEPS = StepProtocol(
    "numpy",
    STEP_PROTOCOL,
    {"STEP": "w, state, x, y, extras, hp", "initial_state": "w", "predict": "w, x, hp"},
)
VARIANTS = ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding")  # written here


def _module(variant: str):
    """The variant's module, imported when first used (with SciPy), not when listing backends:
    this package's own, or the one a variant plugin ships for this protocol."""
    return variant_module(NumpyBackend.name, variant, __name__, VARIANTS, STEPS)


class NumpyBackend:
    """Trains and predicts with hand-written NumPy, float32 throughout."""

    name = "numpy"
    version = np.__version__
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state

    @property
    def variants(self) -> frozenset[str]:
        """This package's variants and those plugins ship a NumPy step for."""
        return backend_variants(self.name, VARIANTS, STEPS)

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
        module = _module(variant)
        return scores_in_chunks(lambda rows: module.predict(weights, rows, hyperparameters), x)


@hookimpl
def mnistbench_register_backends():
    return [NumpyBackend()]
