"""Every variant's arithmetic in float64, written from its contract: the conformance suite's
yardstick for the reference backend itself.

The conformance suite (:mod:`mnistbench.plugin.testing`) compares a backend with the reference
backend,
NumPy. NumPy cannot be compared with itself, so it is compared with this module instead: each
variant's forward pass, loss, gradients and update, in float64, written out from the variant's
contract (``python -m mnistbench variants``) and sharing no code with any backend. It is slow and
plain on purpose (the mnn state is the whole matrix, the softmax Jacobian is built in full), so
it serves only the suite's short runs. A finite-difference test checks its gradients.

    losses, weights = train(spec)          # every step's loss, the weights after each epoch
    scores = predict(variant, hp, weights, x)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mnistbench.plugin.backend import TrainSpec
from mnistbench.variants.mnn import FREE, OUTPUTS

Weights = dict[str, np.ndarray]
Grads = tuple[float, Weights]


# --- pieces every variant uses ------------------------------------------------------------------


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


# --- the variants: loss and gradients at weights w for one batch ------------------------------


def mlp(w: Weights, x, y, hp, extras) -> Grads:
    """relu(x W1 + b1) W2 + b2, cross-entropy of the logits."""
    h = x @ w["W1"] + w["b1"]
    a = relu(h)
    loss, dz = cross_entropy(a @ w["W2"] + w["b2"], y)
    dh = (dz @ w["W2"].T) * (h > 0)
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": a.T @ dz, "b2": dz.sum(0)}


def sigmoid_mlp(w: Weights, x, y, hp, extras) -> Grads:
    """softmax(sigmoid(x W1) W2), squared error to the one-hot target summed over classes."""
    a = 1 / (1 + np.exp(-(x @ w["W1"])))
    p = softmax(a @ w["W2"])
    err = p - one_hot(y)
    loss = float(np.mean(np.sum(err**2, axis=1)))
    dp = 2 * err / len(x)
    # the softmax Jacobian of each sample, in full: d p_i / d z_j = p_i (delta_ij - p_j)
    jacobian = np.einsum("bi,ij->bij", p, np.eye(10)) - np.einsum("bi,bj->bij", p, p)
    dz = np.einsum("bij,bi->bj", jacobian, dp)
    dh = (dz @ w["W2"].T) * a * (1 - a)
    return loss, {"W1": x.T @ dh, "W2": a.T @ dz}


def dropout_mlp(w: Weights, x, y, hp, extras) -> Grads:
    """(relu(x W1) * mask) W2, half the squared error to the one-hot target."""
    mask = extras["dropout_masks"]
    h = x @ w["W1"]
    a = relu(h) * mask
    err = a @ w["W2"] - one_hot(y)
    loss = float(0.5 * np.sum(err**2) / len(x))
    d_out = err / len(x)
    dh = (d_out @ w["W2"].T) * mask * (h > 0)
    return loss, {"W1": x.T @ dh, "W2": a.T @ d_out}


def _mnn_ticks(A: np.ndarray, x: np.ndarray, ticks: int):
    """The whole state, tick by tick: each tick clamps the 784 pixel neurons to the image and
    neuron 784 to 1 (keeping the free neurons 785..), then takes relu(state A)."""
    state = np.zeros((len(x), len(A)))
    clamped, pre = [], []
    for _ in range(ticks):
        c = np.concatenate([x, np.ones((len(x), 1)), state[:, FREE:]], axis=1)  # (B, N)
        clamped.append(c)
        pre.append(c @ A)
        state = relu(pre[-1])
    return clamped, pre, state


def mnn(w: Weights, x, y, hp, extras) -> Grads:
    """The matrix network over the whole (N, N) matrix A: cross-entropy of the last 10 neurons."""
    A = w["A"]
    clamped, pre, state = _mnn_ticks(A, x, int(hp["ticks"]))
    loss, d_logits = cross_entropy(state[:, -OUTPUTS:], y)
    d_state = np.zeros_like(state)
    d_state[:, -OUTPUTS:] = d_logits
    dA = np.zeros_like(A)
    for c, z in zip(reversed(clamped), reversed(pre)):
        dz = d_state * (z > 0)
        dA += c.T @ dz
        d_state = dz @ A.T
        d_state[:, :FREE] = 0  # clamped neurons: overwritten by the next tick, no path back
    return loss, {"A": dA}


def _pc_errors(w: Weights, x0, x1, x2):
    return x1 - (x0 @ w["W1"] + w["b1"]), x2 - (relu(x1) @ w["W2"] + w["b2"])


def pc_energy(w: Weights, x0, x1, x2) -> float:
    """Batch mean of 1/2 |x1 - mu1|^2 + 1/2 |x2 - mu2|^2."""
    e1, e2 = _pc_errors(w, x0, x1, x2)
    return float(0.5 * (np.sum(e1**2) + np.sum(e2**2)) / len(x0))


def pc_relax(w: Weights, x0, x2, hp) -> np.ndarray:
    """x1 from mu1 after ``inference_steps`` steps of -inference_rate * dF/dx1, label clamped."""
    x1 = x0 @ w["W1"] + w["b1"]
    for _ in range(int(hp["inference_steps"])):
        e1, e2 = _pc_errors(w, x0, x1, x2)
        x1 = x1 - float(hp["inference_rate"]) * (e1 - (x1 > 0) * (e2 @ w["W2"].T))
    return x1


def predictive_coding(w: Weights, x, y, hp, extras) -> Grads:
    """Energy at the relaxed states, and its gradient in the weights at those fixed states."""
    x2 = one_hot(y)
    x1 = pc_relax(w, x, x2, hp)
    e1, e2 = _pc_errors(w, x, x1, x2)
    n = len(x)
    grads = {
        "W1": -(x.T @ e1) / n,
        "b1": -e1.sum(0) / n,
        "W2": -(relu(x1).T @ e2) / n,
        "b2": -e2.sum(0) / n,
    }
    return pc_energy(w, x, x1, x2), grads


LOSSES: dict[str, Callable[..., Grads]] = {
    "mlp": mlp,
    "sigmoid_mlp": sigmoid_mlp,
    "dropout_mlp": dropout_mlp,
    "mnn": mnn,
    "predictive_coding": predictive_coding,
}


# --- updates, training and prediction -----------------------------------------------------------


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
    def __init__(self, hp: Mapping[str, Any]):
        self.lr = float(hp["lr"])

    def step(self, w: Weights, grads: Weights) -> None:
        for k, g in grads.items():
            w[k] = w[k] - self.lr * g


def train(spec: TrainSpec) -> tuple[list[np.ndarray], list[Weights]]:
    """Every epoch's step losses and the weights after it, in float64, from ``spec``."""
    loss_and_grads = LOSSES[spec.variant]
    hp = spec.hyperparameters
    w = {k: np.asarray(v, np.float64).copy() for k, v in spec.initial_weights.items()}
    optimiser = Adam(hp) if spec.variant == "mnn" else SGD(hp)
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
    """The scores the variant's contract says ``predict`` returns, (N, 10) float64."""
    w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
    x = np.asarray(x, np.float64)
    if variant == "mlp":
        return relu(x @ w["W1"] + w["b1"]) @ w["W2"] + w["b2"]
    if variant == "sigmoid_mlp":
        return softmax((1 / (1 + np.exp(-(x @ w["W1"])))) @ w["W2"])
    if variant == "dropout_mlp":
        return relu(x @ w["W1"]) @ w["W2"]
    if variant == "mnn":
        return _mnn_ticks(w["A"], x, int(hp["ticks"]))[2][:, -OUTPUTS:]
    if variant == "predictive_coding":
        return relu(x @ w["W1"] + w["b1"]) @ w["W2"] + w["b2"]
    raise KeyError(variant)
