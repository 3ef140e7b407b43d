"""LeNet-5 for the PyTorch backend (step protocol 1): the backward pass written out with
PyTorch's own convolution and pooling gradient kernels, no autograd graph.

The protocol: ``STEP(w, state, x, y, extras, hp)`` updates the weight tensors ``w`` in place and
returns the batch's loss as a 0-d tensor (no host sync, so CUDA graphs can capture it);
``targets(labels)`` turns the labels into what ``STEP`` takes, once; ``predict(w, x, hp, device)``
returns host NumPy scores. The backend's loop runs the steps eagerly on the CPU and captured in
CUDA graphs on a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

SCALE, SLOPE = 1.7159, 2 / 3  # f(a) = 1.7159 tanh(2a/3)
PAD = 2
# Images per predict chunk: on one core 256 at a time score a test set in less than half the time
# of all at once, whose im2col buffers leave the cache.
PREDICT_ROWS = 256
_conv_backward = torch.ops.aten.convolution_backward.default
_pool_backward = torch.ops.aten.avg_pool2d_backward.default


def act(z: torch.Tensor) -> torch.Tensor:
    return z.mul_(SLOPE).tanh_().mul_(SCALE)


def act_slope(a: torch.Tensor) -> torch.Tensor:
    """f'(z) from a = f(z): SLOPE (SCALE - a^2 / SCALE)."""
    return (a * a).mul_(-SLOPE / SCALE).add_(SLOPE * SCALE)


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor):
    """Every activation the backward pass needs, and the logits. ``x`` (B, 1, H, W)."""
    a1 = act(F.conv2d(x, w["W1"], w["b1"], padding=PAD))  # (B, 6, 28, 28)
    p1 = F.avg_pool2d(a1, 2)  # (B, 6, 14, 14)
    a2 = act(F.conv2d(p1, w["W2"], w["b2"]))  # (B, 16, 10, 10)
    p2 = F.avg_pool2d(a2, 2)  # (B, 16, 5, 5)
    flat = p2.flatten(1)  # (B, 400)
    a3 = act(torch.addmm(w["b3"], flat, w["W3"]))  # (B, 120)
    a4 = act(torch.addmm(w["b4"], a3, w["W4"]))  # (B, 84)
    return (a1, p1, a2, flat, a3, a4), torch.addmm(w["b5"], a4, w["W5"])


def _conv_grads(d_out, x, W, pad: int, need_input: bool):
    """d x (or None), d W, d b of conv2d(x, W, b, padding=pad), from d out."""
    return _conv_backward(
        d_out, x, W, [W.shape[0]], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1,
        [need_input, True, True],
    )  # fmt: skip


def _pool_grad(d_out, a):
    return _pool_backward(d_out, a, [2, 2], [2, 2], [0, 0], False, True, None)


def targets(labels: torch.Tensor) -> torch.Tensor:
    """One-hot rows (N, 10), made once for the whole training set."""
    return F.one_hot(labels, 10).to(torch.float32)


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One SGD step on one-hot targets ``y``; the mean cross-entropy before it (0-d)."""
    n, lr = x.shape[0], float(hp["lr"])
    (a1, p1, a2, flat, a3, a4), logits = forward(w, x)
    log_p = torch.log_softmax(logits, dim=1)  # (B, 10)
    loss = (log_p * y).sum().div_(-n)
    dz = log_p.exp().sub_(y).div_(n)  # (B, 10)
    g = {"W5": a4.T @ dz, "b5": dz.sum(0)}
    d4 = (dz @ w["W5"].T).mul_(act_slope(a4))  # (B, 84)
    g |= {"W4": a3.T @ d4, "b4": d4.sum(0)}
    d3 = (d4 @ w["W4"].T).mul_(act_slope(a3))  # (B, 120)
    g |= {"W3": flat.T @ d3, "b3": d3.sum(0)}
    d_p2 = (d3 @ w["W3"].T).view(n, *a2.shape[1:2], a2.shape[2] // 2, a2.shape[3] // 2)
    d_z2 = _pool_grad(d_p2, a2).mul_(act_slope(a2))  # (B, 16, 10, 10)
    d_p1, g["W2"], g["b2"] = _conv_grads(d_z2, p1, w["W2"], 0, True)
    d_z1 = _pool_grad(d_p1, a1).mul_(act_slope(a1))  # (B, 6, 28, 28)
    _, g["W1"], g["b1"] = _conv_grads(d_z1, x, w["W1"], PAD, False)
    for name, grad in g.items():  # after every gradient: the backward pass reads the weights
        w[name].sub_(grad, alpha=lr)
    return loss


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """The logits (N, 10), as a host array."""
    on_device = {k: torch.as_tensor(np.asarray(v, np.float32), device=device) for k, v in w.items()}
    images = torch.as_tensor(np.ascontiguousarray(x, np.float32), device=device)
    chunks = [forward(on_device, part)[1] for part in images.split(PREDICT_ROWS)]
    return torch.cat(chunks).cpu().numpy() if chunks else np.zeros((0, 10), np.float32)
