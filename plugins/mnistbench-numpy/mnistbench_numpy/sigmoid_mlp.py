"""``sigmoid_mlp`` in NumPy: 784-H-10 sigmoid, softmax, squared error.

See mnistbench.variants.sigmoid_mlp.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from mnistbench_numpy.updates import Outer, gradients_as_arrays, no_state, sgd_step


def sigmoid(h: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-h)), written with tanh so raw 0..255 inputs cannot overflow exp."""
    return 0.5 * (1 + np.tanh(0.5 * h))


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the classes of each sample (the seed's was over the batch)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(w: Mapping[str, np.ndarray], x: np.ndarray):
    a = sigmoid(x @ w["W1"])  # (B, H)
    s = softmax(a @ w["W2"])  # (B, 10)
    return a, s


def loss_and_factors(w: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """mean_b sum_k (softmax_k - onehot_k)^2, and its exact gradients as factors (``Outer``)."""
    n = len(x)
    a, s = forward(w, x)
    target = np.zeros_like(s)
    target[np.arange(n), y] = 1
    diff = s - target  # (B, 10)
    loss = float(np.mean(np.sum(diff * diff, axis=1)))
    # 1. d loss / d softmax, then through the full softmax Jacobian: s * (g - <g, s>)
    g = 2 * diff / n
    dz = s * (g - np.sum(g * s, axis=1, keepdims=True))  # (B, 10)
    # 2. through the sigmoid: a' = a (1 - a)
    dh = (dz @ w["W2"].T) * a * (1 - a)  # (B, H)
    return loss, {"W1": Outer(x, dh), "W2": Outer(a, dz)}


loss_and_gradients = partial(gradients_as_arrays, loss_and_factors)
STEP = partial(sgd_step, loss_and_factors)
initial_state = no_state


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Class probabilities, shape (N, 10)."""
    return forward(w, x)[1]
