"""Seed 004 (``004_390e6385c68b6179.txt``), its PyTorch twin: cells [9]-[12]'s ``train_torch``
loop for ``mlp``.

As the notebook: ``nn.Linear`` layers, ``nn.Softmax(dim=0)`` before ``nn.CrossEntropyLoss``
(the seed's bug, kept: it costs what the fixed softmax would), ``optim.SGD``, and each batch
copied from the NumPy arrays with ``torch.tensor`` every step, in file order.

Departures: the initial weights are the core's (the backends' numbers) rather than
``nn.Linear``'s own; the one-hot targets are float32, where the notebook's ``np.eye`` gives
float64 that this PyTorch refuses beside float32 logits (the same work either way); the accuracy
it prints after each epoch is left out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn, optim

from mnistbench.plugin.backend import TrainSpec

from .seed004_mlp_numpy import check_file_order


class TorchNN(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.layer1 = nn.Linear(28 * 28, hidden_size)
        self.relu = nn.ReLU()
        self.layer2 = nn.Linear(hidden_size, 10)
        self.softmax = nn.Softmax(dim=0)

    def forward(self, x):
        x = self.layer1(x)
        x = self.relu(x)
        x = self.layer2(x)
        out = self.softmax(x)
        return out


def prepare(spec: TrainSpec) -> Callable[[int], float]:
    hp = spec.hyperparameters
    torch_network = TorchNN(int(hp["hidden"]))
    with torch.no_grad():  # nn.Linear keeps (out, in): the core's W is laid out for x @ W
        for layer, w, b in ((torch_network.layer1, "W1", "b1"), (torch_network.layer2, "W2", "b2")):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(spec.initial_weights[w].T)))
            layer.bias.copy_(torch.from_numpy(spec.initial_weights[b]))
    optimizer = optim.SGD(torch_network.parameters(), lr=float(hp["lr"]))
    loss_func = nn.CrossEntropyLoss()
    train_images = spec.x_train
    train_labels = np.eye(10, dtype=np.float32)[spec.y_train]
    batch_size = spec.batch_size

    def run_epoch(epoch: int) -> float:
        order = spec.epochs[epoch]
        check_file_order(order)
        first = None
        i = 0
        while i < len(order):
            train_batch = torch.tensor(train_images[i : i + batch_size])
            labels_batch = torch.tensor(train_labels[i : i + batch_size])
            optimizer.zero_grad()
            net_out = torch_network(train_batch)
            loss = loss_func(net_out, labels_batch)
            loss.backward()
            optimizer.step()
            i += batch_size
            first = loss.item() if first is None else first
        return first

    return run_epoch
