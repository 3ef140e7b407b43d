"""Seed 003 (``003_361637ee1fcf5944.txt``), NumPy: cells [5]-[12]'s training loop for
``sigmoid_mlp``.

As the notebook: raw uint8 images (so every ``x.dot(l1)`` and ``x.T @ error`` converts the batch
to float32), float32 weights, ``forward_backward_pass`` with its own ``sigmoid``, ``d_sigmoid``
(two ``exp`` of the hidden layer), ``softmax`` and ``d_softmax`` (each an ``exp`` of the whole
batch), the one-hot targets built every step, the per-step accuracy and "loss" bookkeeping, and
``l1 = l1 - lr * update_l1`` (a new array each step). Seed bugs kept, as they cost what their
fixes would: the softmax over the batch axis with one max, and the diagonal-only softmax
Jacobian.

Departures: the batch indices are the core's draws with replacement from all 60,000 images (the
notebook draws from a 50,000-image split with ``np.random.randint``: the same work); the initial
weights are the core's; the validation pass every 20 iterations (a 10,000 x 784 product, more
arithmetic than the training step itself) is left out, as the core's evaluation is. An epoch is
the variant's ``log_every`` iterations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mnistbench.plugin.backend import TrainSpec


def sigmoid(x):
    return 1 / (np.exp(-x) + 1)


def d_sigmoid(x):
    return (np.exp(-x)) / ((np.exp(-x) + 1) ** 2)


def softmax(x):
    exp_element = np.exp(x - x.max())
    return exp_element / np.sum(exp_element, axis=0)


def d_softmax(x):
    exp_element = np.exp(x - x.max())
    return (
        exp_element / np.sum(exp_element, axis=0) * (1 - exp_element / np.sum(exp_element, axis=0))
    )


def prepare(spec: TrainSpec) -> Callable[[int], float]:
    X_train = spec.x_train.astype(np.uint8)  # the notebook's raw pixels (exact: 0..255 integers)
    Y_train = spec.y_train.astype(np.uint8)
    weights = {"l1": spec.initial_weights["W1"].copy(), "l2": spec.initial_weights["W2"].copy()}
    lr, batch = float(spec.hyperparameters["lr"]), spec.batch_size
    losses, accuracies = [], []

    def forward_backward_pass(x, y):
        l1, l2 = weights["l1"], weights["l2"]
        targets = np.zeros((len(y), 10), np.float32)
        targets[range(targets.shape[0]), y] = 1

        x_l1 = x.dot(l1)
        x_sigmoid = sigmoid(x_l1)
        x_l2 = x_sigmoid.dot(l2)
        out = softmax(x_l2)

        error = 2 * (out - targets) / out.shape[0] * d_softmax(x_l2)
        update_l2 = x_sigmoid.T @ error

        error = ((l2).dot(error.T)).T * d_sigmoid(x_l1)
        update_l1 = x.T @ error
        return out, targets, update_l1, update_l2

    def run_epoch(epoch: int) -> float:
        draws = spec.epochs[epoch]
        first = None
        for start in range(0, len(draws), batch):
            sample = draws[start : start + batch]
            x = X_train[sample].reshape((-1, 28 * 28))
            y = Y_train[sample]

            out, targets, update_l1, update_l2 = forward_backward_pass(x, y)

            category = np.argmax(out, axis=1)
            accuracy = (category == y).mean()
            accuracies.append(accuracy)

            loss = ((category - y) ** 2).mean()
            losses.append(loss.item())

            weights["l1"] = weights["l1"] - lr * update_l1
            weights["l2"] = weights["l2"] - lr * update_l2
            if first is None:  # the variant's loss on the seed's output, for comparison only
                first = float(np.mean(np.sum((out - targets) ** 2, axis=1)))
        return first

    return run_epoch
