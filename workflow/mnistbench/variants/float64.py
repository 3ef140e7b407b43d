"""The float64 pieces every variant's reference arithmetic is written from.

Each variant module writes its own loss, gradients and predict in float64 from its contract
(:class:`mnistbench.variants.base.Reference`), sharing no code with any backend; these are the
pieces they have in common (activations, cross-entropy, the two optimisers). Slow and plain on
purpose: they serve the conformance suite's short runs (:mod:`mnistbench.variants.reference`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

Weights = dict[str, np.ndarray]


def relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, 0.0)


def softmax(z: np.ndarray) -> np.ndarray:
    """Over each row's classes: exp(z - logsumexp(z))."""
    top = z.max(axis=1, keepdims=True)
    log_total = top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))
    return np.exp(z - log_total)


def one_hot(y: np.ndarray, n: int = 10) -> np.ndarray:
    return (np.asarray(y)[:, None] == np.arange(n)).astype(np.float64)


def cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over the batch of -log softmax(z)[y], and its gradient with respect to z."""
    p = softmax(z)
    t = one_hot(y, z.shape[1])
    return float(-np.mean(np.log(np.sum(p * t, axis=1)))), (p - t) / len(z)


class Adam:
    """Adam as published (Kingma & Ba): bias-corrected moment estimates, eps outside the root."""

    def __init__(self, hp: Mapping[str, Any]):
        self.hp, self.m, self.v, self.t = hp, {}, {}, 0

    def step(self, w: Weights, grads: Weights) -> None:
        lr, b1, b2, eps = (float(self.hp[k]) for k in ("lr", "beta1", "beta2", "eps"))
        self.t += 1
        for k, g in grads.items():
            self.m[k] = b1 * self.m.get(k, 0.0) + (1 - b1) * g
            self.v[k] = b2 * self.v.get(k, 0.0) + (1 - b2) * g * g
            m_hat, v_hat = self.m[k] / (1 - b1**self.t), self.v[k] / (1 - b2**self.t)
            w[k] = w[k] - lr * m_hat / (np.sqrt(v_hat) + eps)


class SGD:
    """Plain SGD: w -= lr * g, with the learning rate ``hp["lr"]``."""

    def __init__(self, hp: Mapping[str, Any]):
        self.lr = float(hp["lr"])

    def step(self, w: Weights, grads: Weights) -> None:
        for k, g in grads.items():
            w[k] = w[k] - self.lr * g
