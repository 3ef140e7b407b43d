"""The one training loop of the JAX backend: an epoch of steps is one compiled ``lax.scan``.

A variant module supplies a pure step, ``STEP(p, state, x, y, extras, hp) -> (p, state, loss)``,
and ``initial_state(p)``, the optimiser state it starts from. ``p`` is the weights, or, where a
module defines ``params(weights)`` and ``weights(p, weights)``, the part of them it trains (mnn
trains 110 of its matrix's 895 columns): the scan then carries only that part. The loop gathers
each batch inside the compiled function (the training set goes to the device once), scans the
full batches of an epoch in one call and runs a shorter last batch, if any, through the same
step compiled for its shape. Everything is compiled in :func:`train` before it returns the epoch
iterator, so the core's clock, which runs only inside that iterator, never counts compilation.
A resumed run starts at ``spec.start_epoch`` from the optimiser state its checkpoint kept; every
epoch hands the state back with its weights.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

import jax
import numpy as np
from jax import lax

from mnistbench.backend import EpochResult, TrainSpec


def _epoch(step, hp, w, state, x_train, y_train, order, extras):
    """Scan ``step`` over batches: ``order`` (steps, B) indices, ``extras`` (steps, B, ...)."""

    def body(carry, batch):
        w, state = carry
        rows, batch_extras = batch
        w, state, loss = step(w, state, x_train[rows], y_train[rows], batch_extras, hp)
        return (w, state), loss

    (w, state), losses = lax.scan(body, (w, state), (order, extras))
    return w, state, losses


def _segments(n: int, batch_size: int) -> list[tuple[int, int, int]]:
    """(start, stop, batch size) of an epoch of ``n`` samples: the full batches, then the rest."""
    full = n - n % batch_size
    return [(a, b, size) for a, b, size in ((0, full, batch_size), (full, n, n - full)) if b > a]


def _batches(spec: TrainSpec, epoch: int, start: int, stop: int, size: int):
    """Sample indices (steps, size) and per-sample extras of one segment of ``epoch``."""
    order = spec.epochs[epoch][start:stop].reshape(-1, size)
    extras = {
        name: per_epoch[epoch][start:stop].reshape(*order.shape, -1)
        for name, per_epoch in spec.extras.items()
    }
    return order, extras


def train(spec: TrainSpec, module: Any, hp: Mapping[str, Any]) -> Iterator[EpochResult]:
    """Move the data to the device and compile, then return the iterator of epochs."""
    device = jax.devices("gpu" if spec.device == "cuda" else "cpu")[0]
    put = partial(jax.device_put, device=device)
    x_train, y_train = put(spec.x_train), put(spec.y_train.astype(np.int32))
    weights = {k: put(np.asarray(v, np.float32)) for k, v in spec.initial_weights.items()}
    to_params = getattr(module, "params", lambda weights: weights)
    to_weights = getattr(module, "weights", lambda params, weights: params)
    w = to_params(weights)
    state = module.initial_state(w)
    if spec.initial_state:  # resuming: the optimiser state as the checkpoint kept it
        state = {k: np.asarray(spec.initial_state[k]) for k in state}
    state = jax.tree.map(put, state)
    epoch_fn = jax.jit(partial(_epoch, module.STEP, hp))
    compiled = {}  # (steps, batch size) -> the epoch function compiled for those shapes
    for epoch in range(spec.start_epoch, len(spec.epochs)):
        for segment in _segments(len(spec.epochs[epoch]), spec.batch_size):
            order, extras = _batches(spec, epoch, *segment)
            if order.shape not in compiled:
                lowered = epoch_fn.lower(w, state, x_train, y_train, order, extras)
                compiled[order.shape] = lowered.compile()

    def epochs() -> Iterator[EpochResult]:
        nonlocal w, state, weights
        for epoch in range(spec.start_epoch, len(spec.epochs)):
            losses = []
            for segment in _segments(len(spec.epochs[epoch]), spec.batch_size):
                order, extras = _batches(spec, epoch, *segment)
                run = compiled[order.shape]
                w, state, part = run(w, state, x_train, y_train, put(order), put(extras))
                losses.append(np.asarray(part))
            weights = to_weights(w, weights)
            host = jax.tree.map(np.asarray, weights)
            yield EpochResult(np.concatenate(losses), host, _host_state(state))

    return epochs()


def _host_state(state: Any) -> dict[str, np.ndarray]:
    """The optimiser state as named host arrays (Adam's ``m``, ``v``, ``step``); ``{}`` for SGD."""
    if not isinstance(state, Mapping):
        return {}
    return {k: np.asarray(v) for k, v in jax.device_get(dict(state)).items()}
