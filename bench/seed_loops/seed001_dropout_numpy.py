"""Seed 001 (``001_5340782962217d25.txt``), NumPy: cell [7]'s training loop for
``dropout_mlp``.

As the notebook: float64 images / 255 and one-hot labels, float64 weights, one sample per step
sliced in file order, a fresh ``np.random.randint(2, ...) * 2`` mask each step (integer, so
``layer_1 *= mask`` and the delta's ``*= mask`` mix types as the seed does), the error and
correct-count bookkeeping, and ``+=`` updates. The seed's ``relu2deriv`` bug (``>= 0`` is true
everywhere on a ReLU output) is kept: it costs what the fix would.

Departures: the initial weights are the core's, in the notebook's float64; with ``masks=True``
(tests only) the mask is the core's (``extras["dropout_masks"]``) instead of a fresh draw, so the
first step can be compared with the backends'. An epoch is one pass over ``train_samples``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mnistbench.plugin.backend import TrainSpec

from .seed004_mlp_numpy import check_file_order


def relu(arr: np.ndarray) -> np.ndarray:
    return np.maximum(0, arr)


def relu2deriv(arr: np.ndarray) -> np.ndarray:
    return (arr >= 0).astype(int)


def prepare(spec: TrainSpec, masks: bool = False) -> Callable[[int], float]:
    n = len(spec.epochs[0])
    train_images = spec.x_train[:n].astype(np.float64)
    train_labels = np.zeros((n, 10))
    for i, label in enumerate(spec.y_train[:n]):
        train_labels[i][label] = 1
    weights_0_1 = spec.initial_weights["W1"].astype(np.float64)
    weights_1_2 = spec.initial_weights["W2"].astype(np.float64)
    alpha = float(spec.hyperparameters["lr"])
    np.random.seed(1)

    def run_epoch(epoch: int) -> float:
        nonlocal weights_0_1, weights_1_2  # updated in place with +=, as the seed does
        check_file_order(spec.epochs[epoch])
        core_masks = spec.extras["dropout_masks"][epoch] if masks else None
        error, correct, first = 0, 0, None
        for i in range(len(train_images)):
            layer_0 = train_images[i : i + 1]
            layer_1 = relu(np.dot(layer_0, weights_0_1))
            if core_masks is None:
                mask = np.random.randint(2, size=layer_1.shape) * 2
            else:
                mask = core_masks[i : i + 1]
            layer_1 *= mask
            layer_2 = np.dot(layer_1, weights_1_2)

            layer_2_delta = train_labels[i : i + 1] - layer_2
            layer_1_delta = layer_2_delta.dot(weights_1_2.T) * relu2deriv(layer_1)
            layer_1_delta *= mask

            error += np.sum(layer_2_delta**2)
            correct += int(np.argmax(layer_2) == np.argmax(train_labels[i : i + 1]))
            first = error if first is None else first

            weights_1_2 += alpha * layer_1.T.dot(layer_2_delta)
            weights_0_1 += alpha * layer_0.T.dot(layer_1_delta)
        return float(first)

    return run_epoch
