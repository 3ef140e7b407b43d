"""LeNet-5 in float64, written from the contract and sharing no code with the backends' steps.

Plain on purpose: a convolution is a sum over the 25 kernel offsets of shifted inputs times one
kernel tap (``np.einsum``), not the NumPy step's im2col products, so the two are independent
checks of each other. The conformance suite trains with it on short runs; a finite-difference
test checks its gradients.
"""

from __future__ import annotations

import numpy as np

from mnistbench.variants.float64 import cross_entropy

SCALE, SLOPE = 1.7159, 2 / 3  # f(a) = SCALE tanh(SLOPE a), LeCun et al. 1998, appendix A
PAD = 2


def act(z: np.ndarray) -> np.ndarray:
    return SCALE * np.tanh(SLOPE * z)


def act_slope(a: np.ndarray) -> np.ndarray:
    """f'(z) from a = f(z): SCALE SLOPE (1 - tanh^2) = SLOPE (SCALE - a^2 / SCALE)."""
    return SLOPE * (SCALE - a * a / SCALE)


def conv(x: np.ndarray, W: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """Cross-correlation, stride 1: x (B, C, H, W), W (O, C, k, k) -> (B, O, H', W')."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = W.shape[-1]
    rows, cols = x.shape[2] - k + 1, x.shape[3] - k + 1
    out = np.zeros((len(x), len(W), rows, cols)) + b[None, :, None, None]
    for i in range(k):
        for j in range(k):
            out += np.einsum("bchw,oc->bohw", x[:, :, i : i + rows, j : j + cols], W[:, :, i, j])
    return out


def conv_backward(d_out, x, W, pad):
    """Gradients of :func:`conv` with respect to x, W and b, given d loss / d out."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k = W.shape[-1]
    rows, cols = d_out.shape[2], d_out.shape[3]
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    for i in range(k):
        for j in range(k):
            window = (slice(None), slice(None), slice(i, i + rows), slice(j, j + cols))
            dW[:, :, i, j] = np.einsum("bohw,bchw->oc", d_out, xp[window])
            dxp[window] += np.einsum("bohw,oc->bchw", d_out, W[:, :, i, j])
    dx = dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dW, d_out.sum(axis=(0, 2, 3))


def pool(a: np.ndarray) -> np.ndarray:
    """Means of 2x2 blocks: (B, C, H, W) -> (B, C, H/2, W/2)."""
    b, c, h, w = a.shape
    return a.reshape(b, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def pool_backward(d: np.ndarray) -> np.ndarray:
    """Each block's gradient shared equally by its four inputs."""
    return np.repeat(np.repeat(d, 2, axis=2), 2, axis=3) / 4


def forward(w, x):
    """Every layer's output, input first and logits last."""
    a1 = act(conv(x, w["W1"], w["b1"], PAD))  # (B, 6, 28, 28)
    p1 = pool(a1)  # (B, 6, 14, 14)
    a2 = act(conv(p1, w["W2"], w["b2"], 0))  # (B, 16, 10, 10)
    p2 = pool(a2)  # (B, 16, 5, 5)
    flat = p2.reshape(len(x), -1)  # (B, 400)
    a3 = act(flat @ w["W3"] + w["b3"])  # (B, 120)
    a4 = act(a3 @ w["W4"] + w["b4"])  # (B, 84)
    return x, a1, p1, a2, p2, flat, a3, a4, a4 @ w["W5"] + w["b5"]


def loss_and_gradients(w, x, y, hp, extras):
    """Mean cross-entropy of the logits, and its gradient in every weight."""
    x, a1, p1, a2, p2, flat, a3, a4, z = forward(w, x)
    loss, dz = cross_entropy(z, y)  # (B, 10)
    grads = {"W5": a4.T @ dz, "b5": dz.sum(0)}
    d4 = (dz @ w["W5"].T) * act_slope(a4)  # (B, 84)
    grads |= {"W4": a3.T @ d4, "b4": d4.sum(0)}
    d3 = (d4 @ w["W4"].T) * act_slope(a3)  # (B, 120)
    grads |= {"W3": flat.T @ d3, "b3": d3.sum(0)}
    d_a2 = pool_backward((d3 @ w["W3"].T).reshape(p2.shape)) * act_slope(a2)  # (B, 16, 10, 10)
    d_p1, grads["W2"], grads["b2"] = conv_backward(d_a2, p1, w["W2"], 0)
    d_a1 = pool_backward(d_p1) * act_slope(a1)  # (B, 6, 28, 28)
    _, grads["W1"], grads["b1"] = conv_backward(d_a1, x, w["W1"], PAD)
    return loss, grads


def predict(w, x, hp):
    """The logits (N, 10)."""
    return forward(w, x)[-1]
