"""``sigmoid_mlp`` in PyTorch: sigmoid hidden layer, softmax over classes, squared error.

See mnistbench.variants.sigmoid_mlp. The backward pass is written out, through the full softmax
Jacobian, and each matrix is updated in place with ``addmm_`` (no gradient temporaries).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mnistbench_torch import runtime


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Class probabilities (B, 10): softmax over classes (the seed's was over the batch)."""
    return torch.softmax(torch.sigmoid(x @ w["W1"]) @ w["W2"], dim=1)


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One SGD step on the batch; mean_b sum_k (softmax_k - onehot_k)^2 before it."""
    lr = float(hp["lr"])
    # 1. forward
    a = torch.sigmoid(x @ w["W1"])  # (B, H)
    s = torch.softmax(a @ w["W2"], dim=1)  # (B, 10)
    diff = s - runtime.one_hot(y, w["W2"].shape[1])
    loss = (diff * diff).sum(dim=1).mean()
    # 2. d loss / d softmax, then through the softmax Jacobian: s * (g - <g, s>)
    g = diff.mul_(2 / x.shape[0])
    dz = s * (g - (g * s).sum(dim=1, keepdim=True))  # (B, 10)
    # 3. through the sigmoid: a' = a (1 - a)
    dh = (dz @ w["W2"].T).mul_(a).mul_(1 - a)  # (B, H)
    # 4. update in place: W -= lr * inputs.T @ d
    w["W1"].addmm_(x.T, dh, alpha=-lr)
    w["W2"].addmm_(a.T, dz, alpha=-lr)
    return loss


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class probabilities, shape (N, 10)."""
    return runtime.predict(forward, w, x, device)
