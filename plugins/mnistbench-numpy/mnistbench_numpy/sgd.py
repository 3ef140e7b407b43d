"""The plain-SGD training loop the NumPy variants share: batches in the core's order, w -= lr * g.

A variant supplies ``loss_and_gradients(w, x, y, hp, **extras) -> (loss, grads)``; per-sample
extras from the core (such as dropout masks) arrive sliced to the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from mnistbench.backend import EpochResult, TrainSpec

LossAndGradients = Callable[..., tuple[float, dict[str, np.ndarray]]]


def train(spec: TrainSpec, loss_and_gradients: LossAndGradients) -> Iterator[EpochResult]:
    """Yield the step losses and a copy of the weights after each epoch (plain SGD: no state)."""
    w = {k: np.array(v, dtype=np.float32) for k, v in spec.initial_weights.items()}
    lr = np.float32(spec.hyperparameters["lr"])
    for epoch in range(spec.start_epoch, len(spec.epochs)):
        order = spec.epochs[epoch]
        losses = np.empty(spec.steps_in_epoch(epoch))
        epoch_extras = {name: per_epoch[epoch] for name, per_epoch in spec.extras.items()}
        for step, start in enumerate(range(0, len(order), spec.batch_size)):
            rows = slice(start, start + spec.batch_size)
            batch = order[rows]
            extras = {name: value[rows] for name, value in epoch_extras.items()}
            losses[step], grads = loss_and_gradients(
                w, spec.x_train[batch], spec.y_train[batch], spec.hyperparameters, **extras
            )
            for key, grad in grads.items():
                w[key] -= lr * grad
        yield EpochResult(losses, {k: v.copy() for k, v in w.items()})
