"""Training and prediction in float64 from each variant's own reference arithmetic: the
conformance suite's yardstick for the reference backend itself.

The conformance suite (:mod:`mnistbench.plugin.testing`) compares a backend with the reference
backend, NumPy. NumPy cannot be compared with itself, so it is compared with this module instead.
Each variant declares its loss, gradients, predict and optimiser in float64, written from its
contract and sharing no code with any backend (``Variant.reference``,
:class:`mnistbench.variants.parts.Reference`); this module runs them the way every backend runs a
plan, whatever the variant. It is slow and plain on purpose, so it serves only short runs. A
finite-difference test checks the gradients.

    losses, weights = train(spec)          # every step's loss, the weights after each epoch
    scores = predict(variant, hp, weights, x)

``reference.<variant>`` is that variant's ``loss_and_gradients`` and ``reference.LOSSES`` maps
every installed variant to its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mnistbench.plugin.backend import TrainSpec
from mnistbench.variants import VARIANTS, get_variant
from mnistbench.variants.float64 import SGD, Adam, cross_entropy, one_hot, relu, softmax

Weights = dict[str, np.ndarray]
Grads = tuple[float, Weights]

__all__ = ["SGD", "Adam", "cross_entropy", "one_hot", "predict", "relu", "softmax", "train"]


def __getattr__(name: str) -> Any:
    """``LOSSES`` (variant -> its float64 loss and gradients) and ``<variant>``, that one."""
    if name == "LOSSES":
        return {v.name: v.reference.loss_and_gradients for v in VARIANTS.values()}
    if name in VARIANTS:
        return VARIANTS[name].reference.loss_and_gradients
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def train(spec: TrainSpec) -> tuple[list[np.ndarray], list[Weights]]:
    """Every epoch's step losses and the weights after it, in float64, from ``spec``."""
    arithmetic = get_variant(spec.variant).reference
    loss_and_grads: Callable[..., Grads] = arithmetic.loss_and_gradients
    hp = spec.hyperparameters
    w = {k: np.asarray(v, np.float64).copy() for k, v in spec.initial_weights.items()}
    optimiser = arithmetic.optimiser(hp)
    x_all = np.asarray(spec.x_train, np.float64)
    losses, weights = [], []
    for epoch, order in enumerate(spec.epochs):
        extras = {name: np.asarray(per_epoch[epoch]) for name, per_epoch in spec.extras.items()}
        epoch_losses = []
        for start in range(0, len(order), spec.batch_size):
            rows = slice(start, start + spec.batch_size)
            batch = order[rows]
            batch_extras = {name: value[rows].astype(np.float64) for name, value in extras.items()}
            loss, grads = loss_and_grads(w, x_all[batch], spec.y_train[batch], hp, batch_extras)
            epoch_losses.append(loss)
            optimiser.step(w, grads)
        losses.append(np.array(epoch_losses))
        weights.append({k: v.copy() for k, v in w.items()})
    return losses, weights


def predict(
    variant: str, hp: Mapping[str, Any], weights: Mapping[str, np.ndarray], x
) -> np.ndarray:
    """The scores the variant's contract says ``predict`` returns, (N, classes) float64."""
    w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
    return get_variant(variant).reference.predict(w, np.asarray(x, np.float64), hp)
