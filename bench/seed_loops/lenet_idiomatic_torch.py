"""LeNet-5 as a PyTorch user writes it: ``nn.Sequential``, a shuffling ``DataLoader`` and
``optim.SGD`` with autograd; the loop ``bench/speed.py`` times the PyTorch backend's LeNet beside.

The same network, initial weights (the core's), learning rate and batch size as the ``lenet``
variant (plugins/mnistbench-lenet); the DataLoader shuffles with its own seeded generator, as a
user's would, rather than in the core's order. The epoch's loss is not collected beyond the
first step's, as a user's loop that only trains.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from mnistbench.plugin.backend import TrainSpec


class ScaledTanh(nn.Module):
    """LeCun et al.'s activation, 1.7159 tanh(2a/3)."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(a * (2 / 3))


def lenet() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), ScaledTanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), ScaledTanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), ScaledTanh(), nn.Linear(120, 84), ScaledTanh(), nn.Linear(84, 10),
    )  # fmt: skip


def load_core_weights(net: nn.Sequential, weights) -> None:
    """The core's initial weights into the modules (dense layers: ``x @ W`` is ``W.T`` here)."""
    layers = [m for m in net if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        for i, layer in enumerate(layers, start=1):
            w = torch.from_numpy(np.asarray(weights[f"W{i}"]))
            layer.weight.copy_(w if isinstance(layer, nn.Conv2d) else w.T)
            layer.bias.copy_(torch.from_numpy(np.asarray(weights[f"b{i}"])))


def prepare(spec: TrainSpec) -> Callable[[int], float]:
    net = lenet()
    load_core_weights(net, spec.initial_weights)
    optimizer = optim.SGD(net.parameters(), lr=float(spec.hyperparameters["lr"]))
    loss_fn = nn.CrossEntropyLoss()
    data = TensorDataset(torch.from_numpy(spec.x_train), torch.from_numpy(spec.y_train))
    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(data, batch_size=spec.batch_size, shuffle=True, generator=generator)

    def run_epoch(epoch: int) -> float:
        first = None
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(net(images), labels)
            loss.backward()
            optimizer.step()
            first = loss.item() if first is None else first
        return first

    return run_epoch
