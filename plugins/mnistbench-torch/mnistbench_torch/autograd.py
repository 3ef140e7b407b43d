"""The ``autograd`` and ``compiled`` implementations: a variant's loss, autograd, ``torch.optim``.

The training loop as people write it in PyTorch: for each batch, ``zero_grad``, the loss of the
forward pass, ``backward``, ``optimizer.step()``. The variant gives its forward pass and loss
(the autograd protocol, ``docs/step-protocol.md``: :mod:`mnistbench_torch.models` for the
built-in variants, a module a variant plugin ships); the optimiser is the one the variant
declares (plain SGD or Adam and their hyperparameters), unless its module makes its own
(``optimizer(params, hp)``). ``compiled`` runs the loss through ``torch.compile`` (its backward
pass compiled with it); creating the :class:`Trainer` compiles it for the epoch's batch shapes,
so the compilation is set-up time, never an epoch's.

The core's initial weights, sample order and dropout masks are those of the ``tuned`` steps; the
optimiser's state travels in :attr:`EpochResult.state`, so a resumed run continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mnistbench.plugin.backend import EpochResult, TrainSpec
from mnistbench.variants import float64, get_variant
from mnistbench_torch import runtime
from mnistbench_torch.runtime import tensor


def optimizer(spec: TrainSpec, module: Any, params: dict[str, torch.Tensor]):
    """The variant's optimiser as ``torch.optim`` has it: its module's own, else the one its
    float64 reference declares (:class:`~mnistbench.variants.float64.SGD` or ``Adam``)."""
    hp = spec.hyperparameters
    if hasattr(module, "optimizer"):
        return module.optimizer(params, hp)
    declared = get_variant(spec.variant).reference.optimiser
    if declared is float64.SGD:
        return torch.optim.SGD(params.values(), lr=float(hp["lr"]))
    if declared is float64.Adam:
        betas = (float(hp["beta1"]), float(hp["beta2"]))
        return torch.optim.Adam(params.values(), float(hp["lr"]), betas, float(hp["eps"]))
    raise TypeError(
        f"variant {spec.variant!r}: no torch.optim counterpart of its optimiser "
        f"{declared.__name__}; its autograd module can make one (optimizer(params, hp))"
    )


class Trainer:
    """One run: the weights as trainable tensors, the optimiser, the training set on the device."""

    def __init__(self, spec: TrainSpec, module: Any, compiled: bool = False):
        runtime.make_deterministic(spec.device)
        runtime.warm_up(spec.device)
        self.spec, self.hp = spec, dict(spec.hyperparameters)
        self.w = runtime.parameters(spec.initial_weights, spec.device)
        self.optimizer = optimizer(spec, module, self.w)
        if spec.initial_state:  # resuming: the optimiser where the interrupted run left it
            load_state(self.optimizer, self.w, spec.initial_state)
        self.x = tensor(spec.x_train, spec.device)
        self.y = tensor(spec.y_train, spec.device)
        self.loss = module.loss
        if compiled:
            self.loss = torch.compile(module.loss, dynamic=False)
            self._compile()

    def _batches(self, epoch: int):
        """The epoch's batches: (inputs, labels, extras), in the core's order, on the device."""
        spec, size = self.spec, self.spec.batch_size
        index = tensor(spec.epochs[epoch], spec.device)
        extras = {k: tensor(per_epoch[epoch], spec.device) for k, per_epoch in spec.extras.items()}
        for start in range(0, len(index), size):
            rows = index[start : start + size]
            batch_extras = {k: v[start : start + size] for k, v in extras.items()}
            yield self.x[rows], self.y[rows], batch_extras

    def _compile(self) -> None:
        """Compile the loss and its backward pass for each batch shape of the first epoch to
        train (a full batch and a shorter last one), leaving weights and optimiser untouched."""
        seen = set()
        for x, y, extras in self._batches(self.spec.start_epoch):
            if len(x) in seen:
                continue
            seen.add(len(x))
            self.loss(self.w, x, y, extras, self.hp).backward()
        for p in self.w.values():
            p.grad = None

    def train_epoch(self, epoch: int) -> EpochResult:
        """zero_grad, loss, backward, step: once per batch of ``spec.epochs[epoch]``, with
        denormals flushed to zero on the CPU (as the tuned steps, and XLA, run)."""
        losses = []
        with runtime.flush_denormals(self.spec.device):
            for x, y, extras in self._batches(epoch):
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss(self.w, x, y, extras, self.hp)
                loss.backward()
                self.optimizer.step()
                losses.append(loss.detach())
        state = save_state(self.optimizer, self.w)
        return EpochResult(
            torch.stack(losses).cpu().double().numpy(), runtime.to_numpy(self.w), state
        )


def save_state(optim: torch.optim.Optimizer, w: Mapping[str, torch.Tensor]) -> dict:
    """The optimiser's state per weight as host arrays named ``<weight>.<key>`` (Adam:
    ``exp_avg``, ``exp_avg_sq``, ``step``); empty for plain SGD."""
    return {
        f"{name}.{key}": value.detach().cpu().numpy().copy()
        for name, p in w.items()
        for key, value in optim.state.get(p, {}).items()
    }


def load_state(
    optim: torch.optim.Optimizer, w: Mapping[str, torch.Tensor], saved: Mapping[str, np.ndarray]
) -> None:
    """Put back what :func:`save_state` saved, on the weights' devices and in their dtypes."""
    for name, p in w.items():
        keys = [k.removeprefix(f"{name}.") for k in saved if k.startswith(f"{name}.")]
        optim.state[p] = {
            k: torch.tensor(np.asarray(saved[f"{name}.{k}"]), device=p.device) for k in keys
        }
        if "step" in optim.state[p]:  # torch.optim keeps Adam's step count on the host
            optim.state[p]["step"] = optim.state[p]["step"].cpu()
