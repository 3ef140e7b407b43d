"""Seed 000 (``000_d9262ed16cdd3653.txt``), PyTorch: cells [4]-[5]'s training loop for ``mnn``.

As the notebook: ``net`` clamps the state to the image and the bias neuron in place, then
``relu(s @ A)``, three ticks from a zero state, cross-entropy of the last 10 neurons, Adam on the
whole 895 x 895 ``A`` through autograd, and the per-step accuracy. The seed's bias index bug
(``s[:, inputs] = 1`` writes the first hidden neuron) is kept: it costs what the fix would.

Fixed, because the loop cannot run without it: ``net`` wrote into a state that autograd saved
for ``relu``'s backward (PyTorch refuses the backward); it now clones the state first, a
64 x 895 copy per tick.

Departures: batches come from the core's shuffled order over a tensor of the variant's
normalised images (the seed's ``DataLoader`` makes each image with torchvision's ``ToTensor``
and ``Normalize`` per sample, input preparation the backends are not charged for either); the
initial ``A`` is the core's, ``U(0, init_scale)``; the printing every 200 steps is left out.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from mnistbench.backend import TrainSpec
from mnistbench.variants.mnn import PIXELS, n_neurons


def prepare(spec: TrainSpec) -> Callable[[int], float]:
    hp = spec.hyperparameters
    inputs = PIXELS + 1
    hidden, ticks = int(hp["hidden"]), int(hp["ticks"])
    neurons = n_neurons(hp)
    A = torch.from_numpy(spec.initial_weights["A"].copy()).requires_grad_(True)
    optimizer = torch.optim.Adam([A], lr=float(hp["lr"]))
    loss_fn = torch.nn.CrossEntropyLoss()
    images = torch.from_numpy(spec.x_train)
    labels = torch.from_numpy(spec.y_train)

    def net(s, x):
        s = s.clone()
        s[:, 0 : inputs - 1] = x
        s[:, inputs] = 1
        t = torch.matmul(s, A)
        s = torch.relu(t)
        return s

    def run_epoch(epoch: int) -> float:
        first = None
        for batch in spec.batches(epoch):
            index = torch.from_numpy(batch)
            batch_X, batch_y = images[index], labels[index]
            state = torch.zeros(batch_X.shape[0], neurons)
            for _ in range(0, ticks):
                state = net(state, batch_X.view(-1, 28 * 28))

            outs = state[:, inputs + hidden : neurons]
            loss = loss_fn(outs, batch_y)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            acc = (outs.max(1).indices == batch_y).float().mean()  # noqa: F841 (the seed's)
            first = loss.item() if first is None else first
        return first

    return run_epoch
