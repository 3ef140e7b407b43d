"""``mlp`` in PyTorch: 784-H-10, ReLU, cross-entropy on logits, torch.optim.SGD.

See mnistbench.variants.mlp. The seed's twin put ``Softmax(dim=0)`` before CrossEntropyLoss;
here the logits go straight into ``F.cross_entropy``, which applies log-softmax over classes.
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
    """Logits (B, 10) for inputs ``x`` (B, 784)."""
    a = torch.relu(x @ w["W1"] + w["b1"])  # (B, H)
    return a @ w["W2"] + w["b2"]  # (B, 10)


def loss(w, x: torch.Tensor, y: torch.Tensor, hp) -> torch.Tensor:
    return F.cross_entropy(forward(w, x), y)


STEP = autograd_step(loss)
optimizer = sgd


def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits), shape (N, 10)."""
    return runtime.predict(forward, w, x, device)
