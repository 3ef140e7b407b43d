"""The one training loop of the PyTorch backend: batches in the core's order, one ``STEP`` each.

A variant module supplies ``STEP(w, optimizer, x, y, extras, hp) -> loss``: one batch's
training, updating the tensors ``w`` in place and returning the batch's loss (a 0-d tensor,
measured before the update); and ``optimizer(w, hp)``, the ``torch.optim`` optimiser it steps
(``None`` for a variant that updates its weights itself). ``w`` comes from the module's
``params(weights, device)`` if it has one (mnn trains three parts of its matrix), else it is
every weight as a trainable tensor; ``weights(w, weights)`` turns it back into the core's arrays.
Per-sample extras from the core (dropout masks) arrive sliced to the batch, on the device.

Creating the :class:`Trainer` is the set-up (weights and the training set onto the device, the
CUDA context); :meth:`Trainer.train_epoch` is what the core times. Losses stay on the device
until the epoch ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from mnistbench.backend import EpochResult, TrainSpec
from mnistbench_torch import runtime
from mnistbench_torch.runtime import load_optimizer_state, optimizer_state, tensor, to_numpy


def autograd_step(loss_fn: Callable[..., torch.Tensor]):
    """The ``STEP`` of a variant trained on ``loss_fn(w, x, y, hp, **extras)`` by its optimiser:
    autograd for the gradients, then one ``optimizer.step()``."""

    def step(w, optimizer, x, y, extras, hp) -> torch.Tensor:
        loss = loss_fn(w, x, y, hp, **extras)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def sgd(w, hp) -> torch.optim.Optimizer:
    """Plain SGD, w -= lr * g: the optimiser of mlp, sigmoid_mlp and dropout_mlp."""
    return torch.optim.SGD(w.values(), lr=hp["lr"])


class Trainer:
    """One run of one variant: its weights, optimiser and training set on the device."""

    def __init__(self, spec: TrainSpec, module: Any):
        runtime.make_deterministic()
        runtime.warm_up(spec.device)
        self.spec, self.module, self.hp = spec, module, dict(spec.hyperparameters)
        params = getattr(module, "params", runtime.parameters)
        self.w = params(spec.initial_weights, spec.device)
        self.optimizer = module.optimizer(self.w, self.hp)
        if self.optimizer is not None:  # resuming: moments and step count as they were
            load_optimizer_state(self.optimizer, self.w, spec.initial_state, spec.device)
        self.x, self.y = tensor(spec.x_train, spec.device), tensor(spec.y_train, spec.device)

    def train_epoch(self, epoch: int) -> EpochResult:
        """Every batch of ``spec.epochs[epoch]`` through the variant's ``STEP``, in order."""
        spec, step, device = self.spec, self.module.STEP, self.spec.device
        # One gather per epoch; each batch is then a slice (a view), not a gather kernel per step.
        index = tensor(spec.epochs[epoch], device)
        xs, ys = self.x[index], self.y[index]
        extras = {name: tensor(per_epoch[epoch], device) for name, per_epoch in spec.extras.items()}
        losses = torch.empty(spec.steps_in_epoch(epoch), device=device)
        for i, start in enumerate(range(0, len(index), spec.batch_size)):
            rows = slice(start, start + spec.batch_size)
            batch_extras = {name: value[rows] for name, value in extras.items()}
            losses[i] = step(self.w, self.optimizer, xs[rows], ys[rows], batch_extras, self.hp)
        to_weights = getattr(self.module, "weights", lambda w, weights: to_numpy(w))
        weights = to_weights(self.w, spec.initial_weights)
        state = optimizer_state(self.optimizer, self.w) if self.optimizer is not None else {}
        return EpochResult(losses.cpu().double().numpy(), weights, state)
