"""The SGD training loop the PyTorch variants share: autograd for gradients, torch.optim.SGD.

A variant supplies ``loss(w, x, y, hp, **extras) -> scalar tensor``; per-sample extras from the
core (such as dropout masks) arrive sliced to the batch, on the device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from mnistbench.backend import EpochResult, TrainSpec
from mnistbench_torch.runtime import (
    load_optimizer_state,
    optimizer_state,
    parameters,
    tensor,
    to_numpy,
)


def train(spec: TrainSpec, loss_fn: Callable[..., torch.Tensor]) -> Iterator[EpochResult]:
    """Set up on the device now, then yield the step losses and weights after each epoch.

    The setup (weights and data onto the device) happens before the first epoch is timed.
    """
    w = parameters(spec.initial_weights, spec.device)
    optimizer = torch.optim.SGD(w.values(), lr=spec.hyperparameters["lr"])
    load_optimizer_state(optimizer, w, spec.initial_state, spec.device)
    x, y = tensor(spec.x_train, spec.device), tensor(spec.y_train, spec.device)
    return _epochs(spec, loss_fn, w, optimizer, x, y)


def _epochs(spec, loss_fn, w, optimizer, x, y) -> Iterator[EpochResult]:
    """Losses stay on the device until the epoch ends."""
    for epoch in range(spec.start_epoch, len(spec.epochs)):
        order = spec.epochs[epoch]
        # One gather per epoch; each batch is then a slice (a view), not a gather kernel per step.
        index = tensor(order, spec.device)
        xs, ys = x[index], y[index]
        extras = {
            name: tensor(per_epoch[epoch], spec.device) for name, per_epoch in spec.extras.items()
        }
        losses = torch.empty(spec.steps_in_epoch(epoch), device=spec.device)
        for step, start in enumerate(range(0, len(order), spec.batch_size)):
            rows = slice(start, start + spec.batch_size)
            batch_extras = {name: value[rows] for name, value in extras.items()}
            loss = loss_fn(w, xs[rows], ys[rows], spec.hyperparameters, **batch_extras)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
        state = optimizer_state(optimizer, w)
        yield EpochResult(losses.cpu().double().numpy(), to_numpy(w), state)
