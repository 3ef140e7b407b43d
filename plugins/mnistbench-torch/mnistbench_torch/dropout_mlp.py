"""``dropout_mlp`` in PyTorch: ReLU with the core's dropout masks, linear output, squared error.

See mnistbench.variants.dropout_mlp; autograd gives the ReLU gradient the seed got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench_torch import runtime
from mnistbench_torch.loop import autograd_step, sgd


def loss(w, x: torch.Tensor, y: torch.Tensor, hp, dropout_masks: torch.Tensor) -> torch.Tensor:
    out = (torch.relu(x @ w["W1"]) * dropout_masks) @ w["W2"]  # (B, 10)
    diff = out - F.one_hot(y, 10)
    return 0.5 * (diff * diff).sum() / len(x)


STEP = autograd_step(loss)
optimizer = sgd


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Outputs (B, 10) without dropout: the masks' 1/keep scaling keeps expectations equal."""
    return torch.relu(x @ w["W1"]) @ w["W2"]


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    return runtime.predict(forward, w, x, device)
