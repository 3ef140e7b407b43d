"""``predictive_coding`` in PyTorch: the same relaxation and Hebbian updates as the NumPy
backend, written as plain tensor ops. See mnistbench.variants.predictive_coding.

No autograd and no optimiser: the state and weight updates are local (each needs only the
errors on either side of a layer), so they are written out as in mnistbench_numpy, step for step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mnistbench_torch import runtime
from mnistbench_torch.runtime import tensor


def prediction_errors(w: Mapping[str, torch.Tensor], mu1, x1, x2):
    """e1 = x1 - mu1 (B, H) and e2 = x2 - (relu(x1) W2 + b2) (B, 10)."""
    return x1 - mu1, x2 - torch.addmm(w["b2"], torch.relu(x1), w["W2"])


def state_gradient(w: Mapping[str, torch.Tensor], x1, e1, e2) -> torch.Tensor:
    """dF/dx1 of each sample's energy, (B, H): e1 - relu'(x1) * (e2 W2^T)."""
    return e1 - runtime.relu_backward(e2 @ w["W2.T"], x1)


def relax(w: Mapping[str, torch.Tensor], x0, x2, steps: int, rate: float):
    """Infer x1 with x0 (B, 784) and x2 (B, 10) clamped, starting from mu1; return x1, e1, e2."""
    mu1 = torch.addmm(w["b1"], x0, w["W1"])  # (B, H)
    x1 = mu1.clone()
    for _ in range(steps):
        e1, e2 = prediction_errors(w, mu1, x1, x2)
        x1.sub_(state_gradient(w, x1, e1, e2), alpha=rate)
    e1, e2 = prediction_errors(w, mu1, x1, x2)
    return x1, e1, e2


def params(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """The weights on ``device``, and W2's transpose as a view made once."""
    w = runtime.tensors(weights, device)
    return {**w, "W2.T": w["W2"].T}


def weights(w: Mapping[str, torch.Tensor], weights: Mapping[str, np.ndarray]):
    """The trained weights, as the core saves them."""
    return runtime.to_numpy({k: w[k] for k in weights})


def STEP(w, state, x0, y, extras, hp) -> torch.Tensor:  # noqa: N802 - every variant's name
    """Relax x1 with the label clamped, then one Hebbian update; the energy before it.

    The step loss is the batch-mean energy 1/2 (|e1|^2 + |e2|^2) at the relaxed states, before
    the weight update. Each op takes tensors or keyword scalars (``alpha``): a Python number
    multiplied into a tensor costs a conversion kernel of its own, which at 20 relaxation steps
    cost a fifth of the step.
    """
    lr, rate, n = float(hp["lr"]), float(hp["inference_rate"]), x0.shape[0]
    x2 = runtime.one_hot(y, w["W2"].shape[1])  # (B, classes)
    # 1. inference: x1 settles between the image below and the label above
    x1, e1, e2 = relax(w, x0, x2, int(hp["inference_steps"]), rate)
    flat1, flat2 = e1.view(-1), e2.view(-1)
    loss = torch.vdot(flat1, flat1).add_(torch.vdot(flat2, flat2)).mul_(0.5 / n)
    # 2. learning: local updates at the relaxed states, W -= lr * dF/dW, where dF/dW1 is
    #    -x0^T e1 / n, dF/db1 -sum_b e1 / n, dF/dW2 -relu(x1)^T e2 / n and dF/db2 -sum_b e2 / n
    step = lr / n
    w["W1"].addmm_(x0.T, e1, alpha=step)
    w["b1"].add_(e1.sum(dim=0), alpha=step)
    w["W2"].addmm_(torch.relu(x1).T, e2, alpha=step)
    w["b2"].add_(e2.sum(dim=0), alpha=step)
    return loss


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores mu2 = relu(x W1 + b1) W2 + b2, shape (N, 10): one feedforward pass, no label."""
    p = {k: tensor(v, device) for k, v in w.items()}
    return (torch.relu(tensor(x, device) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]).cpu().numpy()
