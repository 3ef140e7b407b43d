"""``predictive_coding`` in PyTorch: the same relaxation and Hebbian updates as the NumPy
backend, written as plain tensor ops under ``torch.no_grad``. See
mnistbench.variants.predictive_coding.

No autograd and no optimiser: the state and weight updates are local (each needs only the
errors on either side of a layer), so they are written out as in mnistbench_numpy, step for step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench_torch.runtime import tensor


def prediction_errors(w: Mapping[str, torch.Tensor], mu1, x1, x2):
    """e1 = x1 - mu1 (B, H) and e2 = x2 - (relu(x1) W2 + b2) (B, 10)."""
    return x1 - mu1, x2 - (torch.relu(x1) @ w["W2"] + w["b2"])


def state_gradient(w: Mapping[str, torch.Tensor], x1, e1, e2) -> torch.Tensor:
    """dF/dx1 of each sample's energy, (B, H): e1 - relu'(x1) * (e2 W2^T)."""
    return e1 - (x1 > 0) * (e2 @ w["W2"].T)


def relax(w: Mapping[str, torch.Tensor], x0, x2, steps: int, rate: float):
    """Infer x1 with x0 (B, 784) and x2 (B, 10) clamped, starting from mu1; return x1, e1, e2."""
    mu1 = x0 @ w["W1"] + w["b1"]  # (B, H)
    x1 = mu1.clone()
    for _ in range(steps):
        e1, e2 = prediction_errors(w, mu1, x1, x2)
        x1 -= rate * state_gradient(w, x1, e1, e2)
    e1, e2 = prediction_errors(w, mu1, x1, x2)
    return x1, e1, e2


def weight_gradients(x0, x1, e1, e2) -> dict[str, torch.Tensor]:
    """dF/dW of the batch-mean energy at fixed states (minus them are the Hebbian updates)."""
    n = len(x0)
    return {
        "W1": -(x0.T @ e1) / n,  # (784, H)
        "b1": -e1.sum(dim=0) / n,  # (H,)
        "W2": -(torch.relu(x1).T @ e2) / n,  # (H, 10)
        "b2": -e2.sum(dim=0) / n,  # (10,)
    }


def STEP(w, state, x0, y, extras, hp) -> torch.Tensor:  # noqa: N802 - every variant's name
    """Relax x1 with the label clamped, then one Hebbian update; the energy before it.

    The step loss is the batch-mean energy 1/2 (|e1|^2 + |e2|^2) at the relaxed states, before
    the weight update.
    """
    lr, rate = float(hp["lr"]), float(hp["inference_rate"])
    x2 = F.one_hot(y, 10).to(torch.float32)  # (B, 10)
    # 1. inference: x1 settles between the image below and the label above
    x1, e1, e2 = relax(w, x0, x2, int(hp["inference_steps"]), rate)
    loss = 0.5 * ((e1 * e1).sum() + (e2 * e2).sum()) / len(x0)
    # 2. learning: local updates at the relaxed states, W -= lr * dF/dW
    for key, grad in weight_gradients(x0, x1, e1, e2).items():
        w[key] -= lr * grad
    return loss


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores mu2 = relu(x W1 + b1) W2 + b2, shape (N, 10): one feedforward pass, no label."""
    p = {k: tensor(v, device) for k, v in w.items()}
    return (torch.relu(tensor(x, device) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).cpu().numpy()
