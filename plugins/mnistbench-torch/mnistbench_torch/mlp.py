"""``mlp`` in PyTorch: 784-H-10, ReLU, cross-entropy on logits, plain SGD.

See mnistbench.variants.mlp. The seed's twin put ``Softmax(dim=0)`` before CrossEntropyLoss;
here the logits go through log-softmax over classes, as ``F.cross_entropy`` does.

The step writes its backward pass out and updates each matrix in place with ``addmm_``: at
batch 8 a step is a few small kernels, and autograd's graph and torch.optim's loop cost more
than the arithmetic. ``bench/speed.py`` times it beside the seed's autograd loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mnistbench_torch import runtime


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits (B, 10) for inputs ``x`` (B, 784)."""
    a = torch.relu(torch.addmm(w["b1"], x, w["W1"]))  # (B, H)
    return torch.addmm(w["b2"], a, w["W2"])  # (B, 10)


def params(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """The weights on ``device``, ``W1`` stored column-major (its transpose contiguous): cuBLAS
    multiplies a batch of 8 by a 784 x 300 matrix in 6 us that way on an H100, against 9 us
    row-major. The core still sees a (784, H) ``W1``."""
    w = runtime.tensors(weights, device)
    w["W1"] = w["W1"].T.contiguous().T
    return w


def targets(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """The training targets as one-hot rows, made once for the whole training set."""
    return runtime.one_hot(labels, classes)


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One SGD step on one-hot targets ``y``; ``log_softmax * y`` (B, 10) before it, from which
    :func:`losses` computes the mean cross-entropy once per epoch.

    A batch of 8 costs more to launch than to compute, on a GPU above all, so the step is a dozen
    kernels: the ReLU in place, the batch mean's 1/B in the updates' alpha, each bias updated by
    one matrix-vector product, and the loss left to :func:`losses`.
    """
    n, lr = x.shape[0], float(hp["lr"])
    # 1. forward
    a = torch.addmm(w["b1"], x, w["W1"]).relu_()  # (B, H)
    log_p = torch.log_softmax(torch.addmm(w["b2"], a, w["W2"]), dim=1)  # (B, 10)
    picked = log_p * y  # each sample's log p(label), zeros elsewhere: a new tensor, kept
    # 2. backward without the mean's 1/B: B * d loss / d logits = softmax - onehot, then back
    # through W2 and the ReLU (a > 0 exactly where its input was)
    dz = log_p.exp_().sub_(y)  # (B, 10)
    dh = runtime.relu_backward(dz @ w["W2"].T, a)  # (B, H)
    # 3. update in place: W -= lr / B * inputs.T @ d, b -= lr / B * d.T @ 1
    ones = runtime.ones(n, x.device)
    w["W1"].addmm_(x.T, dh, alpha=-lr / n)
    w["b1"].addmv_(dh.T, ones, alpha=-lr / n)
    w["W2"].addmm_(a.T, dz, alpha=-lr / n)
    w["b2"].addmv_(dz.T, ones, alpha=-lr / n)
    return picked


def losses(picked: torch.Tensor) -> torch.Tensor:
    """Each step's mean cross-entropy, from its ``log_softmax * onehot`` stacked (steps, B, 10)."""
    return picked.sum(dim=(1, 2)).div_(-picked.shape[1])


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits), shape (N, 10)."""
    return runtime.predict(forward, w, x, device)
