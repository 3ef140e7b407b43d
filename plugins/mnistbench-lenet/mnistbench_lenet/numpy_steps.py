"""LeNet-5 for the NumPy backend (step protocol 1), float32, backward written out by hand.

Activations are kept channels-last, (B, H, W, C), so that a convolution is one matrix product:
``im2col`` views every 5x5 window through :func:`numpy.lib.stride_tricks.sliding_window_view`
and lays them out as rows (B*H'*W', C*5*5), which multiply the kernels (C*5*5, O). The backward
pass of a convolution's input adds each kernel tap's share back into the padded input
(``col2im``). Checked against finite differences and the float64 reference in the tests.

The protocol: ``STEP(w, state, x, y, extras, hp) -> loss`` updates ``w`` in place,
``initial_state(w)`` is the optimiser's state (none for SGD), ``predict(w, x, hp)`` the scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SCALE, SLOPE = np.float32(1.7159), np.float32(2 / 3)  # f(a) = 1.7159 tanh(2a/3)
PAD = 2
# Images per predict chunk: im2col of 10,000 images at once is 0.8 GB; that of 64 stays in cache,
# which on one core scores a test set in two thirds of a chunk of 1,024's time.
PREDICT_ROWS = 64


def act(z: np.ndarray) -> np.ndarray:
    np.tanh(z * SLOPE, out=z)
    z *= SCALE
    return z


def act_slope(a: np.ndarray) -> np.ndarray:
    """f'(z) from a = f(z): SLOPE (SCALE - a^2 / SCALE)."""
    return SLOPE * (SCALE - a * a / SCALE)


def im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(B, H, W, C) -> every k x k window as a row (B*H'*W', C*k*k), ordered (C, kh, kw) as the
    kernels (O, C, kh, kw) flatten."""
    windows = sliding_window_view(x, (k, k), axis=(1, 2))  # (B, H', W', C, k, k), a view
    return windows.reshape(-1, x.shape[3] * k * k)  # one copy


def conv(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convolution of channels-last ``x`` (already padded) with W (O, C, k, k): (B, H', W', O),
    and the im2col rows, which the backward pass needs."""
    k = W.shape[-1]
    cols = im2col(x, k)  # (B*H'*W', C*k*k)
    out = cols @ W.reshape(len(W), -1).T + b  # (B*H'*W', O)
    return out.reshape(x.shape[0], x.shape[1] - k + 1, x.shape[2] - k + 1, len(W)), cols


def col2im(d_cols: np.ndarray, shape: tuple[int, ...], k: int) -> np.ndarray:
    """The gradient of a (padded) input of ``shape`` (B, H, W, C) from that of its im2col rows."""
    b, h, w, c = shape
    rows, cols = h - k + 1, w - k + 1
    d = d_cols.reshape(b, rows, cols, c, k, k)
    dx = np.zeros(shape, np.float32)
    for i in range(k):
        for j in range(k):
            dx[:, i : i + rows, j : j + cols, :] += d[..., i, j]
    return dx


def pool(a: np.ndarray) -> np.ndarray:
    """Means of 2x2 blocks, channels-last: (B, H, W, C) -> (B, H/2, W/2, C). Two sums of
    halves: ``mean`` over the two block axes walks them element by element, ten times slower."""
    b, h, w, c = a.shape
    blocks = a.reshape(b, h // 2, 2, w // 2, 2, c)
    rows = blocks[:, :, 0] + blocks[:, :, 1]  # (B, H/2, W/2, 2, C)
    out = rows[:, :, :, 0] + rows[:, :, :, 1]
    out *= np.float32(0.25)
    return out


def pool_backward(d: np.ndarray) -> np.ndarray:
    """The gradient of :func:`pool`'s input: each block's four inputs get a quarter of it."""
    b, h, w, c = d.shape
    quarter = (d * np.float32(0.25))[:, :, None, :, None, :]
    return np.broadcast_to(quarter, (b, h, 2, w, 2, c)).reshape(b, 2 * h, 2 * w, c)


def forward(w: Mapping[str, np.ndarray], x: np.ndarray):
    """Every activation the backward pass needs, and the logits. ``x`` (B, 1, H, W)."""
    n = len(x)
    x = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))  # (B, 32, 32, 1)
    z1, cols1 = conv(x, w["W1"], w["b1"])
    a1 = act(z1)  # (B, 28, 28, 6)
    p1 = pool(a1)  # (B, 14, 14, 6)
    z2, cols2 = conv(p1, w["W2"], w["b2"])
    a2 = act(z2)  # (B, 10, 10, 16)
    p2 = pool(a2)  # (B, 5, 5, 16)
    flat = p2.transpose(0, 3, 1, 2).reshape(n, -1)  # (B, 400), channel-major as the contract
    a3 = act(flat @ w["W3"] + w["b3"])  # (B, 120)
    a4 = act(a3 @ w["W4"] + w["b4"])  # (B, 84)
    logits = a4 @ w["W5"] + w["b5"]  # (B, 10)
    return (cols1, a1, p1, cols2, a2, p2, flat, a3, a4), logits


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits (B, 10) against labels, and d loss / d logits."""
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(z))
    loss = -float(log_p[rows, y].mean())
    dz = np.exp(log_p)
    dz[rows, y] -= 1
    return loss, dz / np.float32(len(z))


def loss_and_gradients(w: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, hp=None):
    """The batch's mean cross-entropy and the gradient of every weight."""
    (cols1, a1, p1, cols2, a2, p2, flat, a3, a4), logits = forward(w, x)
    loss, dz = softmax_cross_entropy(logits, y)  # (B, 10)
    g = {"W5": a4.T @ dz, "b5": dz.sum(0)}
    d4 = (dz @ w["W5"].T) * act_slope(a4)  # (B, 84)
    g |= {"W4": a3.T @ d4, "b4": d4.sum(0)}
    d3 = (d4 @ w["W4"].T) * act_slope(a3)  # (B, 120)
    g |= {"W3": flat.T @ d3, "b3": d3.sum(0)}
    d_p2 = (d3 @ w["W3"].T).reshape(p2.shape[0], p2.shape[3], *p2.shape[1:3])  # (B, 16, 5, 5)
    d_z2 = pool_backward(d_p2.transpose(0, 2, 3, 1)) * act_slope(a2)  # (B, 10, 10, 16)
    d_z2 = d_z2.reshape(-1, d_z2.shape[3])  # (B*100, 16)
    g |= {"W2": (d_z2.T @ cols2).reshape(w["W2"].shape), "b2": d_z2.sum(0)}
    d_p1 = col2im(d_z2 @ w["W2"].reshape(len(w["W2"]), -1), p1.shape, w["W2"].shape[-1])
    d_z1 = (pool_backward(d_p1) * act_slope(a1)).reshape(-1, a1.shape[3])  # (B*784, 6)
    g |= {"W1": (d_z1.T @ cols1).reshape(w["W1"].shape), "b1": d_z1.sum(0)}
    return loss, g


def STEP(w, state, x, y, extras, hp) -> float:  # noqa: N802 - the name the protocol asks for
    """One plain-SGD step on the batch; the loss before it."""
    loss, grads = loss_and_gradients(w, x, y)
    lr = np.float32(hp["lr"])
    for name, grad in grads.items():
        w[name] -= lr * grad
    return loss


def initial_state(w) -> dict:
    return {}  # plain SGD keeps no state


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """The logits (N, 10), a chunk of images at a time."""
    w = {k: np.asarray(v, np.float32) for k, v in w.items()}
    chunks = [forward(w, x[i : i + PREDICT_ROWS])[1] for i in range(0, len(x), PREDICT_ROWS)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 10), np.float32)
