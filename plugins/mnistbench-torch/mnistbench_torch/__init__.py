"""The PyTorch backend: every variant in PyTorch tensor operations, on the CPU or a CUDA GPU.

Each variant module gives one training step, ``STEP``, its optimiser and ``predict``;
:mod:`mnistbench_torch.loop` is the one training loop they all plug into. PyTorch is imported
only when a backend method needs it, so listing backends stays fast and a machine without
PyTorch reports this backend as unavailable instead of failing to load it.

What a variant module gives is the PyTorch step protocol (``docs/step-protocol.md``, version
:data:`STEP_PROTOCOL`): a variant plugin that ships a module written to it (``Variant.steps``)
is run the same way, CUDA graphs included.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.plugin.backend import Trainer, TrainSpec
from mnistbench.plugin.variant_registry import step_module, variant_steps

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements

STEP_PROTOCOL = 1  # the version of the PyTorch step protocol the loop speaks
MODEL_MODULES = {  # the variants written here
    name: f"mnistbench_torch.{name}"
    for name in ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding")
}


def _model(variant: str):
    """This package's module for ``variant``, or the one a variant plugin ships for it."""
    if variant in MODEL_MODULES:
        return importlib.import_module(MODEL_MODULES[variant])
    return step_module(TorchBackend.name, variant, STEP_PROTOCOL)


class TorchBackend:
    """Trains and predicts with PyTorch; ``device: auto`` takes CUDA when present."""

    name = "torch"
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state

    @property
    def variants(self) -> frozenset[str]:
        """This package's variants and those plugins ship a PyTorch step for."""
        return frozenset(MODEL_MODULES) | set(variant_steps(self.name, STEP_PROTOCOL))

    @property
    def version(self) -> str:
        try:
            return importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    def unavailable_reason(self) -> str | None:
        if importlib.util.find_spec("torch") is None:
            return "PyTorch is not installed (pip install torch)"
        return None

    def devices(self) -> list[str]:
        import torch

        return ["cuda", "cpu"] if torch.cuda.is_available() else ["cpu"]

    def setup(self, spec: TrainSpec) -> Trainer:
        from mnistbench_torch import loop, runtime

        runtime.use_job_threads()
        return loop.Trainer(spec, _model(spec.variant))

    def predict(
        self,
        variant: str,
        hyperparameters: Mapping[str, Any],
        weights: Mapping[str, np.ndarray],
        x: np.ndarray,
        device: str,
    ) -> np.ndarray:
        from mnistbench_torch import runtime

        runtime.use_job_threads()
        return _model(variant).predict(weights, x, hyperparameters, device)


@hookimpl
def mnistbench_register_backends():
    return [TorchBackend()]
