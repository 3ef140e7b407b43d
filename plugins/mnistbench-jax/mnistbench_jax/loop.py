"""The one training loop of the JAX backend: an epoch of steps is one compiled ``lax.scan``.

A variant module supplies a pure step, ``STEP(p, state, x, y, extras, hp) -> (p, state, loss)``,
and ``initial_state(p)``, the optimiser state it starts from. ``p`` is the weights, or, where a
module defines ``params(weights)`` (or ``params(weights, spec)``, given the run's TrainSpec to
size the part from the data) and ``weights(p, weights)``, the part of them it trains (mnn trains
110 of its matrix's 895 columns on MNIST): the scan then carries only that part. The loop gathers
each batch inside the compiled function (the training set goes to the device once), scans the
full batches of an epoch in one call and runs a shorter last batch, if any, through the same
step compiled for its shape. Everything is compiled when the :class:`Trainer` is made (the
backend's untimed set-up), so the core's clock, which runs only in
:meth:`Trainer.train_epoch`, never counts compilation.
A resumed run starts at ``spec.start_epoch`` from the optimiser state its checkpoint kept; every
epoch hands the state back with its weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import jax
import numpy as np
from jax import lax

from mnistbench.plugin import EpochResult, TrainSpec, float32_weights, stacked_batches, trained_part

# Matrix products in full float32 on every device. On a GPU, XLA's default multiplies float32
# matrices in TF32 (a 10-bit mantissa): losses then drift from the CPU's and the other backends'
# by about 1e-4 within a few steps.
FLOAT32_MATMULS = "highest"


def _epoch(step, hp, w, state, x_train, y_train, order, extras):
    """Scan ``step`` over batches: ``order`` (steps, B) indices, ``extras`` (steps, B, ...)."""

    def body(carry, batch):
        w, state = carry
        rows, batch_extras = batch
        w, state, loss = step(w, state, x_train[rows], y_train[rows], batch_extras, hp)
        return (w, state), loss

    (w, state), losses = lax.scan(body, (w, state), (order, extras))
    return w, state, losses


class Trainer:
    """One run of one variant: its data, weights and optimiser state on the device, and the
    epoch function compiled for every shape of batch the run will meet."""

    def __init__(self, spec: TrainSpec, module: Any, hp: Mapping[str, Any]):
        self.spec, self.module = spec, module
        device = jax.devices("gpu" if spec.device == "cuda" else "cpu")[0]
        self.put = put = partial(jax.device_put, device=device)
        self.x_train, self.y_train = put(spec.x_train), put(spec.y_train.astype(np.int32))
        self.weights = {k: put(np.asarray(v, np.float32)) for k, v in spec.initial_weights.items()}
        self.w = trained_part(module, self.weights, spec)
        state = module.initial_state(self.w)
        if spec.initial_state:  # resuming: the optimiser state as the checkpoint kept it
            state = _device_state(state, spec.initial_state)
        self.state = jax.tree.map(put, state)
        epoch_fn = jax.jit(partial(_epoch, module.STEP, hp))
        # The trained part back into the whole weights after each epoch, as one compiled call
        # (op by op, mnn's scatter into its (N, N) matrix cost milliseconds per epoch).
        self.to_weights = jax.jit(getattr(module, "weights", lambda params, weights: params))
        self.to_weights(self.w, self.weights)
        # Transfers are asynchronous: wait for them here, or the first timed epoch waits instead.
        jax.block_until_ready((self.x_train, self.y_train, self.weights, self.w, self.state))
        self.compiled = {}  # (steps, batch size) -> the epoch function compiled for those shapes
        for epoch in range(spec.start_epoch, len(spec.epochs)):
            for order, extras in stacked_batches(spec, epoch):
                if order.shape not in self.compiled:
                    args = (self.w, self.state, self.x_train, self.y_train, order, extras)
                    with jax.default_matmul_precision(FLOAT32_MATMULS):
                        self.compiled[order.shape] = epoch_fn.lower(*args).compile()

    def train_epoch(self, epoch: int) -> EpochResult:
        """The epoch's full batches in one compiled scan, then its shorter last batch, if any."""
        losses = []
        for order, extras in stacked_batches(self.spec, epoch):
            run = self.compiled[order.shape]
            self.w, self.state, part = run(
                self.w, self.state, self.x_train, self.y_train, self.put(order), self.put(extras)
            )
            losses.append(np.asarray(part))
        self.weights = self.to_weights(self.w, self.weights)
        host = float32_weights(jax.device_get(self.weights))
        return EpochResult(np.concatenate(losses), host, _host_state(self.state))


def _state_names(state: Any) -> list[tuple[str, Any]]:
    """The optimiser state's leaves with flat names: Adam's ``m``, ``v``, ``step``, and
    ``m.pixels``-style names where it keeps moments per part of the weights."""
    leaves = jax.tree_util.tree_flatten_with_path(state)[0]
    return [(jax.tree_util.keystr(path, simple=True, separator="."), leaf) for path, leaf in leaves]


def _host_state(state: Any) -> dict[str, np.ndarray]:
    """The optimiser state as named host arrays; ``{}`` for SGD."""
    return {name: np.asarray(leaf) for name, leaf in _state_names(jax.device_get(state))}


def _device_state(fresh: Any, saved: Mapping[str, np.ndarray]) -> Any:
    """``fresh``'s structure filled with the arrays a checkpoint kept under the same names."""
    treedef = jax.tree.structure(fresh)
    return treedef.unflatten([np.asarray(saved[name]) for name, _ in _state_names(fresh)])
