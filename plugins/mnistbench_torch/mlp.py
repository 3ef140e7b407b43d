"""``mlp`` in PyTorch: 784-H-10, ReLU, cross-entropy on logits, torch.optim.SGD.

See mnistbench.variants.mlp. The seed's twin put ``Softmax(dim=0)`` before CrossEntropyLoss;
here the logits go straight into ``F.cross_entropy``, which applies log-softmax over classes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench.backend import EpochResult, TrainSpec
from mnistbench_torch.runtime import parameters, tensor, to_numpy


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits (B, 10) for inputs ``x`` (B, 784)."""
    a = torch.relu(x @ w["W1"] + w["b1"])  # (B, H)
    return a @ w["W2"] + w["b2"]  # (B, 10)


def train(spec: TrainSpec) -> Iterator[EpochResult]:
    """SGD over the core's batches; losses stay on the device until the epoch ends."""
    w = parameters(spec.initial_weights, spec.device)
    optimizer = torch.optim.SGD(w.values(), lr=spec.hyperparameters["lr"])
    x, y = tensor(spec.x_train, spec.device), tensor(spec.y_train, spec.device)
    for epoch in range(len(spec.epochs)):
        # One gather per epoch; each batch is then a slice (a view), not a gather kernel per step.
        order = tensor(spec.epochs[epoch], spec.device)
        xs, ys = x[order], y[order]
        losses = torch.empty(spec.steps_in_epoch(epoch), device=spec.device)
        for step, start in enumerate(range(0, len(order), spec.batch_size)):
            end = start + spec.batch_size
            loss = F.cross_entropy(forward(w, xs[start:end]), ys[start:end])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
        yield EpochResult(losses.cpu().double().numpy(), to_numpy(w))


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits), shape (N, 10)."""
    params = {k: tensor(v, device) for k, v in w.items()}
    return forward(params, tensor(x, device)).cpu().numpy()
