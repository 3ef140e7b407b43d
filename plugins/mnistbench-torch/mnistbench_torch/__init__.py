"""The PyTorch backend: every variant in PyTorch tensor operations, on the CPU or a CUDA GPU.

Each variant module gives one training step, ``STEP``, its optimiser and ``predict``;
:mod:`mnistbench_torch.loop` is the one training loop they all plug into. PyTorch is imported
only when a backend method needs it, so listing backends stays fast and a machine without
PyTorch reports this backend as unavailable instead of failing to load it.

What a variant module gives is the PyTorch step protocol (``docs/step-protocol.md``, version
:data:`STEP_PROTOCOL`): a variant plugin that ships a module written to it (``Variant.steps``)
is run the same way, CUDA graphs included.

Three implementations (:data:`IMPLEMENTATIONS`): ``tuned``, those hand-written steps; ``autograd``,
the variant's forward pass and loss (:mod:`mnistbench_torch.models`, or the module a variant
plugin ships for it, version :data:`AUTOGRAD_PROTOCOL`) trained by autograd and ``torch.optim``;
``compiled``, the same through ``torch.compile`` (:mod:`mnistbench_torch.autograd`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.plugin import StepProtocol
from mnistbench.plugin.backend import Trainer, TrainSpec
from mnistbench.plugin.frameworks import installed_version, missing_reason
from mnistbench.plugin.variant_registry import (
    backend_variants,
    step_module,
    variant_module,
    variant_steps,
)

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements

STEP_PROTOCOL = 1  # the version of the PyTorch step protocol the loop speaks
VARIANTS = ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding")  # written here
IMPLEMENTATIONS = ("tuned", "autograd", "compiled")  # the first is a run's default
AUTOGRAD_PROTOCOL = 1  # the version of the autograd protocol (a forward pass and a loss)
# The variants written here as a forward pass (mnistbench_torch.models): every one whose update
# is the gradient of one loss (predictive coding's is not).
AUTOGRAD = ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn")
# What a variant plugin's module must define for each (docs/step-protocol.md): checked when a run
# imports it. Listing variants matches the versions only, so it never imports PyTorch.
STEPS = StepProtocol(
    "torch",
    STEP_PROTOCOL,
    {"STEP": "w, state, x, y, extras, hp", "predict": "w, x, hp, device"},
)
MODELS = StepProtocol(
    "torch autograd",
    AUTOGRAD_PROTOCOL,
    {"loss": "w, x, y, extras, hp", "forward": "w, x, hp"},
)


def _model(variant: str):
    """This package's module for ``variant``, or the one a variant plugin ships for it."""
    return variant_module(TorchBackend.name, variant, __name__, VARIANTS, STEPS)


def _autograd_model(variant: str):
    """This package's forward pass of ``variant``, or the one a variant plugin ships for it."""
    if variant in AUTOGRAD:
        return importlib.import_module(f"{__name__}.models.{variant}")
    return step_module(TorchBackend.name, variant, MODELS, "autograd")


def _tuned(variant: str) -> bool:
    return variant in VARIANTS or variant in variant_steps(TorchBackend.name, STEP_PROTOCOL)


def _autograd(variant: str) -> bool:
    shipped = variant_steps(TorchBackend.name, AUTOGRAD_PROTOCOL, "autograd")
    return variant in AUTOGRAD or variant in shipped


class TorchBackend:
    """Trains and predicts with PyTorch; ``device: auto`` takes CUDA when present."""

    name = "torch"
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state
    implementations = IMPLEMENTATIONS

    @property
    def variants(self) -> frozenset[str]:
        """This package's variants and those plugins ship a PyTorch step or model for."""
        shipped = variant_steps(self.name, AUTOGRAD_PROTOCOL, "autograd")
        return backend_variants(self.name, VARIANTS, STEP_PROTOCOL) | set(shipped)

    def implementations_for(self, variant: str) -> tuple[str, ...]:
        """``tuned`` where there are hand-written steps; ``autograd`` and ``compiled`` where
        there is a forward pass."""
        tuned = ("tuned",) if _tuned(variant) else ()
        return tuned + (("autograd", "compiled") if _autograd(variant) else ())

    @property
    def version(self) -> str:
        return installed_version("torch")

    def unavailable_reason(self) -> str | None:
        return missing_reason("torch", "PyTorch")

    def devices(self) -> list[str]:
        import torch

        return ["cuda", "cpu"] if torch.cuda.is_available() else ["cpu"]

    def setup(self, spec: TrainSpec) -> Trainer:
        from mnistbench_torch import runtime

        runtime.use_job_threads()
        if spec.implementation in ("autograd", "compiled"):
            from mnistbench_torch import autograd

            model = _autograd_model(spec.variant)
            return autograd.Trainer(spec, model, compiled=spec.implementation == "compiled")
        from mnistbench_torch import loop

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
        if not _tuned(variant):  # a variant written only as a forward pass
            forward = _autograd_model(variant).forward
            return runtime.predict(forward, weights, x, device, hyperparameters)
        return _model(variant).predict(weights, x, hyperparameters, device)


@hookimpl
def mnistbench_register_backends():
    return [TorchBackend()]
