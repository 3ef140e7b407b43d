"""The kernels of a step in JAX: one compiled ``lax.scan`` over an epoch's batches, as the JAX
backend runs its steps, so the floor pays XLA's cost per step and no per-call dispatch.

Each scan step gathers the batch, runs every product of the :class:`~floors.StepKernels` and each
Adam update (the backend's own, :func:`mnistbench_jax.optimizers.adam`). The operands pass
through an optimisation barrier with the step's batch, so XLA cannot hoist a product out of the
loop as the same every step (the barrier moves no data); every result is carried to the next
step, so none is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from floors import StepKernels
from floors.eager import operands


def _apply(kind: str, a, b, out):
    """The product of ``kind`` (see :data:`floors.Kind`); SGD's takes the weight ``out``."""
    if kind == "forward":
        return a @ b
    if kind == "backward":
        return a @ b.T
    if kind == "gradient":
        return a.T @ b
    return out - 1e-3 * (a.T @ b)


def jax_scan(kernels: StepKernels, spec, hp: Mapping[str, Any]):
    """``run(order)``: the kernels over batches ``order`` (steps, B) in one compiled scan, the
    result ready on return."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    from mnistbench_jax.optimizers import adam, adam_state

    rng = np.random.default_rng(0)
    pairs = [tuple(map(jnp.asarray, operands(p, rng))) for p in kernels.products]
    outs = [jnp.zeros((p.m, p.n), jnp.float32) for p in kernels.products]
    kinds = [p.kind for p in kernels.products]
    zeros = [jnp.zeros(shape, jnp.float32) for shape in kernels.adam]
    moments = [(p, adam_state(p)) for p in zeros]
    x_train, y_train = jnp.asarray(spec.x_train), jnp.asarray(spec.y_train.astype(np.int32))

    def body(carry, rows):
        pairs, outs, moments = carry
        batch = x_train[rows], y_train[rows]
        (pairs, grads), _ = lax.optimization_barrier(((pairs, moments), batch))
        outs = [_apply(kind, a, b, out) for kind, (a, b), out in zip(kinds, pairs, outs)]
        moments = [adam(p, g, state, hp) for (p, state), (g, _) in zip(moments, grads)]
        return (pairs, outs, moments), None

    epoch = jax.jit(lambda carry, order: lax.scan(body, carry, order)[0])
    carry = (pairs, outs, moments)
    compiled = {}

    def run(order: np.ndarray) -> None:
        nonlocal carry
        order = jnp.asarray(order)
        if order.shape not in compiled:
            compiled[order.shape] = epoch.lower(carry, order).compile()
        carry = jax.block_until_ready(compiled[order.shape](carry, order))

    return run


def time_scan(kernels: StepKernels, spec, hp: Mapping[str, Any], order: np.ndarray) -> float:
    """Seconds per step of the kernels' scan over ``order`` (steps, B), compiled beforehand."""
    run = jax_scan(kernels, spec, hp)
    run(order)  # compiles, and warms the caches as a trainer's set-up does
    start = time.perf_counter()
    run(order)
    return (time.perf_counter() - start) / len(order)
