"""``sigmoid_mlp`` in PyTorch: autograd through sigmoid, softmax over classes, squared error.

See mnistbench.variants.sigmoid_mlp.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench_torch import runtime
from mnistbench_torch.loop import autograd_step, sgd


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Class probabilities (B, 10): softmax over classes (the seed's was over the batch)."""
    return torch.softmax(torch.sigmoid(x @ w["W1"]) @ w["W2"], dim=1)


def loss(w, x: torch.Tensor, y: torch.Tensor, hp) -> torch.Tensor:
    diff = forward(w, x) - F.one_hot(y, 10)
    return (diff * diff).sum(dim=1).mean()


STEP = autograd_step(loss)
optimizer = sgd


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class probabilities, shape (N, 10)."""
    return runtime.predict(forward, w, x, device)
