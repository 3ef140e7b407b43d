"""What every backend's training loop does besides the arithmetic, written once.

    from mnistbench.plugin import batches, float32_weights, job_threads, scores_in_chunks

The shipped NumPy and JAX backends are built on them (the PyTorch backend, whose loops work on
device tensors, scores with :func:`scores_in_chunks`; it and JAX's read the job's thread count
with :func:`job_threads`, which is ``mnistbench.plugin.threads.configured``),
so a backend written with them visits the core's batches in the core's order, hands back
weights in the layout the core stores, uses the job's thread count and scores a test set of any
size exactly as they do: its author writes the arithmetic of a step and of ``predict``, and
nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from mnistbench.plugin.backend import TrainSpec
from mnistbench.plugin.threads import configured as job_threads

__all__ = [
    "batches",
    "float32_weights",
    "job_threads",
    "scores_in_chunks",
    "stacked_batches",
    "trained_part",
]

# Rows scored per call by scores_in_chunks: a whole MNIST test set in one call, and a bound on
# the memory a larger one takes.
SCORE_ROWS = 10_000


def float32_weights(weights: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Fresh float32 NumPy copies of ``weights`` (NumPy arrays, or any array that
    :func:`numpy.asarray` reads, such as a JAX array), by name.

    What :attr:`EpochResult.weights` must hold: float32 host arrays with the initial weights'
    names and shapes. Also a trainer's own copy of ``spec.initial_weights``, which it must not
    change (the core keeps them, and may hand them to another trainer).
    """
    return {name: np.array(value, dtype=np.float32) for name, value in weights.items()}


def trained_part(module: Any, weights: Any, spec: TrainSpec) -> Any:
    """The part of ``weights`` a step module trains: ``module.params(weights)``, or
    ``module.params(weights, spec)`` where its ``params`` names a ``spec`` parameter (to lay the
    part out for the data's image size and classes); ``weights`` themselves where the module
    defines no ``params``. Its ``weights(part, weights)`` puts the part back (step protocol)."""
    params = getattr(module, "params", None)
    if params is None:
        return weights
    run = {"spec": spec} if "spec" in inspect.signature(params).parameters else {}
    return params(weights, **run)


def batches(
    spec: TrainSpec, epoch: int
) -> Iterator[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """Each step's batch of ``spec.epochs[epoch]``, in order, as ``(x, y, extras)``.

    ``x`` and ``y`` are the batch's rows of ``spec.x_train`` and ``spec.y_train``, ``extras`` the
    batch's rows of each per-sample array of the plan (dropout masks). Batches are consecutive
    slices of ``spec.batch_size`` of the epoch's order; the last may be shorter. There are
    ``spec.steps_in_epoch(epoch)`` of them.
    """
    order = spec.epochs[epoch]
    extras = {name: per_epoch[epoch] for name, per_epoch in spec.extras.items()}
    for start in range(0, len(order), spec.batch_size):
        rows = slice(start, start + spec.batch_size)
        batch = order[rows]
        yield (
            spec.x_train[batch],
            spec.y_train[batch],
            {name: value[rows] for name, value in extras.items()},
        )


def stacked_batches(spec: TrainSpec, epoch: int) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """``spec.epochs[epoch]`` as blocks of batches, for a loop that runs a compiled step over a
    block at a time (JAX's ``lax.scan``): the full batches as one block, then the shorter last
    batch, if any, as another, so every block has one shape to compile.

    Each block is ``(order, extras)``: sample indices ``(steps, batch)`` and each extra's rows
    ``(steps, batch, ...)``, in the epoch's order.
    """
    n, size = len(spec.epochs[epoch]), spec.batch_size
    full = n - n % size
    blocks = []
    for start, stop, batch in ((0, full, size), (full, n, n - full)):
        if stop > start:
            order = spec.epochs[epoch][start:stop].reshape(-1, batch)
            extras = {
                name: per_epoch[epoch][start:stop].reshape(*order.shape, -1)
                for name, per_epoch in spec.extras.items()
            }
            blocks.append((order, extras))
    return blocks


def scores_in_chunks(
    score: Callable[[np.ndarray], Any], x: np.ndarray, rows: int = SCORE_ROWS
) -> np.ndarray:
    """``score(x)`` as one float32 NumPy array ``(len(x), classes)``, computed ``rows`` inputs
    at a time: a backend's ``predict`` over a test set of any size in bounded memory. ``score``
    takes a slice of ``x`` and returns its class scores as any array :func:`numpy.asarray`
    reads."""
    if len(x) <= rows:
        return np.asarray(score(x), np.float32)
    return np.concatenate(
        [np.asarray(score(x[i : i + rows]), np.float32) for i in range(0, len(x), rows)]
    )
