"""``predictive_coding`` in NumPy: relaxation and Hebbian updates by hand.

See mnistbench.variants.predictive_coding.

Bottom-up predictions ``mu1 = x0 W1 + b1`` (B, H) and ``mu2 = f(x1) W2 + b2`` (B, 10) with
``f = relu``, errors
``e1 = x1 - mu1`` and ``e2 = x2 - mu2``, energy per sample ``F = 1/2 |e1|^2 + 1/2 |e2|^2``.
Every quantity below is one of the functions a finite-difference test checks against F.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def bottom_up(w: Mapping[str, np.ndarray], x0: np.ndarray) -> np.ndarray:
    """mu1 = x0 W1 + b1, the hidden layer's prediction from the image: (B, 784) -> (B, H)."""
    return x0 @ w["W1"] + w["b1"]


def relu(x: np.ndarray) -> np.ndarray:
    """f(x1): what the hidden layer sends up, a ReLU of its state."""
    return np.maximum(x, 0)


def prediction_errors(w: Mapping[str, np.ndarray], mu1: np.ndarray, x1: np.ndarray, x2: np.ndarray):
    """e1 = x1 - mu1 (B, H) and e2 = x2 - (f(x1) W2 + b2) (B, 10)."""
    e1 = x1 - mu1
    e2 = x2 - (relu(x1) @ w["W2"] + w["b2"])
    return e1, e2


def energy(w: Mapping[str, np.ndarray], x0: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> float:
    """Batch mean of F = 1/2 |e1|^2 + 1/2 |e2|^2: the loss this variant reports."""
    e1, e2 = prediction_errors(w, bottom_up(w, x0), x1, x2)
    return energy_of(e1, e2)


def energy_of(e1: np.ndarray, e2: np.ndarray) -> float:
    """Batch mean of 1/2 (|e1|^2 + |e2|^2), from errors already computed."""
    return float(0.5 * (np.sum(e1 * e1) + np.sum(e2 * e2)) / len(e1))


def state_gradient(w: Mapping[str, np.ndarray], x1: np.ndarray, e1: np.ndarray, e2: np.ndarray):
    """dF/dx1 of each sample's own energy, (B, H): its error minus the error it sends up.

    d/dx1 [1/2 |x1 - mu1|^2] = e1, and d/dx1 [1/2 |x2 - f(x1) W2 - b2|^2]
    = -f'(x1) * (e2 W2^T), with f'(x1) = 1 where x1 > 0, else 0. Only quantities next to
    layer 1 appear: the update is local.
    """
    return e1 - (x1 > 0) * (e2 @ w["W2"].T)


def weight_gradients(w: Mapping[str, np.ndarray], x0: np.ndarray, x1: np.ndarray, e1, e2):
    """dF/dW of the batch-mean energy at fixed states: presynaptic activity times error.

    Minus these are Hebbian updates: W1 += lr * x0^T e1 / B, W2 += lr * f(x1)^T e2 / B.
    """
    n = len(x0)
    return {
        "W1": -(x0.T @ e1) / n,  # (784, H)
        "b1": -e1.sum(axis=0) / n,  # (H,)
        "W2": -(relu(x1).T @ e2) / n,  # (H, 10)
        "b2": -e2.sum(axis=0) / n,  # (10,)
    }


def relax(w: Mapping[str, np.ndarray], x0: np.ndarray, x2: np.ndarray, steps: int, rate):
    """Infer x1 with x0 and x2 clamped; return x1 and its errors after ``steps`` steps.

    1. x1 starts at its bottom-up prediction mu1 (e1 = 0): only the output error drives it.
    2. each step moves x1 by -rate * dF/dx1, towards the minimum of F given x0 and x2.
    """
    mu1 = bottom_up(w, x0)  # (B, H), fixed while x1 relaxes
    x1 = mu1.copy()
    for _ in range(steps):
        e1, e2 = prediction_errors(w, mu1, x1, x2)
        x1 -= rate * state_gradient(w, x1, e1, e2)
    e1, e2 = prediction_errors(w, mu1, x1, x2)
    return x1, e1, e2


def STEP(w, state, x0, y, extras, hp) -> float:  # noqa: N802 - the name every variant exports
    """Relax x1 with the label clamped, then one Hebbian update; the energy before it.

    The step loss is the batch-mean energy at the relaxed states, before the weight update.
    """
    lr, rate = np.float32(hp["lr"]), np.float32(hp["inference_rate"])
    x2 = np.eye(w["W2"].shape[1], dtype=np.float32)[y]  # (B, classes): the label clamped
    # 1. inference: x1 settles between the image below and the label above
    x1, e1, e2 = relax(w, x0, x2, int(hp["inference_steps"]), rate)
    loss = energy_of(e1, e2)
    # 2. learning: local updates at the relaxed states, W -= lr * dF/dW
    for key, grad in weight_gradients(w, x0, x1, e1, e2).items():
        w[key] -= lr * grad
    return loss


def initial_state(w) -> dict:
    return {}  # no optimiser: the Hebbian update keeps no state


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Class scores mu2, shape (N, 10): one feedforward pass, no label.

    With x2 free, F is minimised (to 0) at x1 = mu1 and x2 = mu2, so relaxing without the label
    would land exactly here.
    """
    return relu(bottom_up(w, x)) @ w["W2"] + w["b2"]
