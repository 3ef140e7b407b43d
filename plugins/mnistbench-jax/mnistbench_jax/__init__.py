"""The JAX backend: every variant as pure functions, ``jax.jit`` and ``jax.grad``.

Each variant module gives a pure training step and a ``predict``; :mod:`mnistbench_jax.loop`
runs every epoch as one ``lax.scan`` over its batches, compiled in the untimed set-up. The core
supplies the initial weights, the sample order and the dropout masks, so no ``jax.random`` is
needed and the losses match the NumPy backend's step for step. JAX is imported only when a
method needs it, so listing backends stays fast and a machine without JAX reports this backend
as unavailable; :func:`mnistbench_jax.runtime.start` imports it, with XLA's thread pools at the
job's thread count.

What a variant module gives is the JAX step protocol (``docs/step-protocol.md``, version
:data:`STEP_PROTOCOL`): a variant plugin that ships a module written to it (``Variant.steps``)
is run the same way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench import hookimpl
from mnistbench.plugin import StepProtocol
from mnistbench.plugin.backend import Trainer, TrainSpec
from mnistbench.plugin.frameworks import installed_version, missing_reason
from mnistbench.plugin.variant_registry import backend_variants, variant_module

MNISTBENCH_HOOK_VERSION = 2  # the version of mnistbench's hooks this plugin implements

# JAX logs at INFO that it found no TPU; that is not news on a CPU or GPU machine.
logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
STEP_PROTOCOL = 1  # the version of the JAX step protocol the loop speaks
# What a step module must define at that version (docs/step-protocol.md): checked when a run
# imports it. Listing variants matches the version only, so it never imports JAX.
STEPS = StepProtocol(
    "jax",
    STEP_PROTOCOL,
    {"STEP": "w, state, x, y, extras, hp", "initial_state": "w", "predict": "w, x, hp"},
)
VARIANTS = ("mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding")  # written here


def _module(variant: str):
    """This package's module for ``variant``, or the one a variant plugin ships for it."""
    return variant_module(JaxBackend.name, variant, __name__, VARIANTS, STEPS)


class JaxBackend:
    """Trains and predicts with JAX; ``device: auto`` takes a CUDA GPU when jaxlib has one."""

    name = "jax"
    resumable = True  # every variant continues from TrainSpec.start_epoch and initial_state
    # Its steps take jax.grad of each variant's loss, under jax.jit: PyTorch's autograd and
    # compiled implementations in one.
    implementations = ("autograd",)

    @property
    def variants(self) -> frozenset[str]:
        """This package's variants and those plugins ship a JAX step for."""
        return backend_variants(self.name, VARIANTS, STEP_PROTOCOL)

    @property
    def version(self) -> str:
        return installed_version("jax")

    def unavailable_reason(self) -> str | None:
        return missing_reason("jax", "JAX")

    def devices(self) -> list[str]:
        from mnistbench_jax import runtime

        runtime.start()
        import jax

        platforms = {d.platform for d in jax.devices()}
        return ["cuda", "cpu"] if "gpu" in platforms or "cuda" in platforms else ["cpu"]

    def setup(self, spec: TrainSpec) -> Trainer:
        from mnistbench_jax import runtime

        runtime.start()
        from mnistbench_jax import loop

        return loop.Trainer(spec, _module(spec.variant), dict(spec.hyperparameters))

    def predict(
        self,
        variant: str,
        hyperparameters: Mapping[str, Any],
        weights: Mapping[str, np.ndarray],
        x: np.ndarray,
        device: str,
    ) -> np.ndarray:
        from mnistbench_jax import runtime

        runtime.start()
        import jax

        from mnistbench_jax.loop import FLOAT32_MATMULS

        target = jax.devices("gpu" if device == "cuda" else "cpu")[0]
        w = {k: jax.device_put(np.asarray(v, np.float32), target) for k, v in weights.items()}
        x = jax.device_put(np.asarray(x, np.float32), target)
        with jax.default_matmul_precision(FLOAT32_MATMULS):  # traced and compiled in here
            return np.asarray(_predict(variant)(w, x, _Frozen(hyperparameters)))


@functools.cache
def _predict(variant: str):
    """The variant's ``predict``, compiled once per shape for the whole process: the core scores
    the test set after every epoch, and a fresh ``jax.jit`` each time would trace it anew."""
    import jax

    return jax.jit(_module(variant).predict, static_argnums=2)


class _Frozen(dict):
    """Hyperparameters as a hashable static argument of a compiled function."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))


@hookimpl
def mnistbench_register_backends():
    return [JaxBackend()]
