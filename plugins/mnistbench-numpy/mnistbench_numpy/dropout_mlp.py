"""``dropout_mlp`` in NumPy: 784-H-10 ReLU with dropout, linear output, squared error.

See mnistbench.variants.dropout_mlp. The hidden gradient passes only where the ReLU was active
(the seed's ``relu2deriv`` was 1 everywhere) and only through the units the mask kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench_numpy.updates import Outer, dense, no_state, sgd


def loss_and_factors(w: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, dropout_masks=None):
    """mean_b 1/2 sum_k (out_k - onehot_k)^2 with the core's masks applied, and its gradients
    as factors (``Outer``)."""
    n = len(x)
    h = x @ w["W1"]  # (B, H)
    mask = np.ones_like(h) if dropout_masks is None else dropout_masks  # (B, H), 0 or 1/keep
    a = np.maximum(h, 0) * mask
    out = a @ w["W2"]  # (B, 10)
    diff = out
    diff[np.arange(n), y] -= 1  # out - onehot, in place: out is not used again
    loss = float(0.5 * np.vdot(diff, diff) / n)
    d_out = diff
    d_out /= n  # in place: diff is not used again
    dh = d_out @ w["W2"].T  # (B, H)
    dh *= mask
    dh *= h > 0
    return loss, {"W1": Outer(x, dh), "W2": Outer(a, d_out)}


def loss_and_gradients(w, x, y, hp=None, dropout_masks=None):
    """The loss and every gradient as an array."""
    loss, grads = loss_and_factors(w, x, y, dropout_masks)
    return loss, dense(grads)


def STEP(w, state, x, y, extras, hp) -> float:  # noqa: N802 - the name every variant exports
    """One plain-SGD step on the batch; the loss before it."""
    loss, grads = loss_and_factors(w, x, y, extras["dropout_masks"])
    sgd(w, grads, hp["lr"])
    return loss


initial_state = no_state


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Outputs (N, 10) without dropout: the masks' 1/keep scaling keeps expectations equal."""
    return np.maximum(x @ w["W1"], 0) @ w["W2"]
