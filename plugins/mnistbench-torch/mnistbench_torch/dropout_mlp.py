"""``dropout_mlp`` in PyTorch: ReLU with the core's dropout masks, linear output, squared error.

See mnistbench.variants.dropout_mlp. The hidden gradient passes only where the ReLU was active
and the mask kept the unit (the seed's ``relu2deriv`` was 1 everywhere). At one sample per step
the kernels are tiny, so the backward pass is written out and each matrix is updated in place
with ``addmm_``: autograd's graph would cost several times the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench_torch import runtime


@torch.no_grad()
def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One SGD step; mean_b 1/2 sum_k (out_k - onehot_k)^2 before it, masks applied."""
    lr, mask = float(hp["lr"]), extras["dropout_masks"]  # mask: (B, H), 0 or 1/keep
    # 1. forward
    h = x @ w["W1"]  # (B, H)
    a = torch.relu(h).mul_(mask)
    diff = (a @ w["W2"]).sub_(F.one_hot(y, 10))  # (B, 10), out - onehot
    loss = 0.5 * torch.vdot(diff.view(-1), diff.view(-1)) / len(x)
    # 2. backward
    d_out = diff.div_(len(x))
    dh = (d_out @ w["W2"].T).mul_(mask).mul_(h > 0)  # (B, H)
    # 3. update in place: W -= lr * inputs.T @ d
    w["W1"].addmm_(x.T, dh, alpha=-lr)
    w["W2"].addmm_(a.T, d_out, alpha=-lr)
    return loss


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Outputs (B, 10) without dropout: the masks' 1/keep scaling keeps expectations equal."""
    return torch.relu(x @ w["W1"]) @ w["W2"]


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    return runtime.predict(forward, w, x, device)
