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

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.plugin.backend import Trainer, TrainSpec
from mnistbench.plugin.frameworks import installed_version, missing_reason
from mnistbench.plugin.variant_registry import backend_variants, variant_module

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements

STEP_PROTOCOL = 1  # the version of the PyTorch step protocol the loop speaks
VARIANTS = ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding")  # written here


def _model(variant: str):
    """This package's module for ``variant``, or the one a variant plugin ships for it."""
    return variant_module(TorchBackend.name, variant, __name__, VARIANTS, STEP_PROTOCOL)


class TorchBackend:
    """Trains and predicts with PyTorch; ``device: auto`` takes CUDA when present."""

    name = "torch"
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state

    @property
    def variants(self) -> frozenset[str]:
        """This package's variants and those plugins ship a PyTorch step for."""
        return backend_variants(self.name, VARIANTS, STEP_PROTOCOL)

    @property
    def version(self) -> str:
        return installed_version("torch")

    def unavailable_reason(self) -> str | None:
        return missing_reason("torch", "PyTorch")

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
