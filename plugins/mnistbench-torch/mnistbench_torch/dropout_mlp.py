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

from mnistbench_torch import runtime


def params(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """The weights on ``device``, and W2's transpose as a view made once (a view per step costs
    as much as a kernel here)."""
    w = runtime.tensors(weights, device)
    return {**w, "W2.T": w["W2"].T}


def weights(w: Mapping[str, torch.Tensor], weights: Mapping[str, np.ndarray]):
    """The trained weights, as the core saves them."""
    return runtime.to_numpy({k: w[k] for k in weights})


def targets(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """The training targets as one-hot rows, made once for the whole training set (a step
    would otherwise spend a kernel on its own)."""
    return runtime.one_hot(labels, classes)


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One SGD step on one-hot targets ``y``; the residual ``out - y`` (B, 10) before it, from
    which :func:`losses` computes the loss once per epoch.

    At one sample per step each kernel costs more to call than to run, so the step is written
    in as few of them as the math allows: the ReLU and the mask are one gate (relu(h) * mask =
    h * gate), the batch mean's 1/B rides in the updates' alpha, and the loss is left to
    :func:`losses`, one reduction over the epoch's residuals.
    """
    n, lr = x.shape[0], float(hp["lr"])
    # 1. forward
    h = torch.mm(x, w["W1"])  # (B, H)
    gate = runtime.relu_backward(extras["dropout_masks"], h)  # (B, H): mask where h > 0, else 0
    a = h.mul_(gate)  # relu(h) * mask; h is not needed again
    diff = torch.addmm(y, a, w["W2"], beta=-1)  # (B, 10), out - onehot: a new tensor, kept
    # 2. backward (without the 1/B of the mean, which alpha applies)
    dh = torch.mm(diff, w["W2.T"]).mul_(gate)  # (B, H)
    # 3. update in place: W -= lr / B * inputs.T @ d
    w["W1"].addmm_(x.T, dh, alpha=-lr / n)
    w["W2"].addmm_(a.T, diff, alpha=-lr / n)
    return diff


def losses(residuals: torch.Tensor) -> torch.Tensor:
    """Each step's mean_b 1/2 sum_k (out_k - onehot_k)^2, masks applied, from its residuals
    stacked (steps, B, 10)."""
    return residuals.square().sum(dim=(1, 2)).mul_(0.5 / residuals.shape[1])


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Outputs (B, 10) without dropout: the masks' 1/keep scaling keeps expectations equal."""
    return torch.relu(x @ w["W1"]) @ w["W2"]


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    return runtime.predict(forward, w, x, device)
