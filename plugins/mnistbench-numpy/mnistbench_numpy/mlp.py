"""``mlp`` in NumPy: 784-H-10, ReLU, softmax cross-entropy, plain SGD.

See mnistbench.variants.mlp.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from mnistbench_numpy.losses import softmax_cross_entropy
from mnistbench_numpy.updates import Outer, gradients_as_arrays, no_state, sgd_step


def forward(w: Mapping[str, np.ndarray], x: np.ndarray):
    """Return the pre-activations, hidden activations and logits for inputs ``x`` (B, 784)."""
    h = x @ w["W1"] + w["b1"]  # (B, H)
    a = np.maximum(h, 0)  # (B, H)
    z = a @ w["W2"] + w["b2"]  # (B, 10)
    return h, a, z


def loss_and_factors(w: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """Mean cross-entropy of softmax(logits) against labels ``y``, and its gradients, those of
    the weight matrices as factors (``Outer``)."""
    h, a, z = forward(w, x)
    loss, dz = softmax_cross_entropy(z, y)  # dz: (B, 10)
    dh = (dz @ w["W2"].T) * (h > 0)  # (B, H), ReLU passes gradient where it was active
    grads = {"W1": Outer(x, dh), "b1": dh.sum(axis=0), "W2": Outer(a, dz), "b2": dz.sum(axis=0)}
    return loss, grads


loss_and_gradients = partial(gradients_as_arrays, loss_and_factors)
STEP = partial(sgd_step, loss_and_factors)
initial_state = no_state


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Class scores (logits), shape (N, 10)."""
    return forward(w, x)[2]
