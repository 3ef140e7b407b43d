"""The one training loop of the PyTorch backend: batches in the core's order, one ``STEP`` each.

A variant module supplies ``STEP(w, state, x, y, extras, hp) -> loss``: one batch's training,
updating the weight tensors ``w`` and the optimiser state ``state`` in place and returning the
batch's loss (a 0-d tensor, measured before the update), or what the module's ``losses`` computes it
from once per epoch (see :func:`mnistbench_torch.runtime.step_losses`). Optional:
``targets(labels)`` or ``targets(labels, classes)``, the training labels in the form the steps
take them, made once (one-hot rows, as many columns as the dataset has classes);
``initial_state(w)``, the optimiser state of a fresh run as named tensors (none for plain SGD), and
``params(weights, device)`` (or ``params(weights, device, spec)``, given the run's TrainSpec to
size them from the data) and ``weights(w, weights)``, where the tensors a step uses are not simply
every weight (mnn trains 110 of its matrix's 895 columns on MNIST, through views made once).
Per-sample extras from the core (dropout masks) arrive sliced to the batch, on the device. Steps are
plain tensor arithmetic with the backward pass written out; a CPU epoch runs under one
``torch.no_grad()`` (entered per step, it would cost more than a one-sample step's kernels) with
denormals flushed to zero.

Creating the :class:`Trainer` is the set-up (weights and the training set onto the device, the
CUDA context, and on a GPU the capture of runs of steps in CUDA graphs,
:mod:`mnistbench_torch.graphs`); :meth:`Trainer.train_epoch` is what the core times. Losses stay
on the device until the epoch ends.
"""

from __future__ import annotations

import inspect
from itertools import repeat
from typing import Any

import numpy as np
import torch

from mnistbench.plugin.backend import EpochResult, TrainSpec
from mnistbench_torch import graphs, runtime
from mnistbench_torch.runtime import tensor, to_numpy

GATHER_EPOCH_BYTES = 16 * 2**20  # gather a CPU epoch's images up front when they fit a cache


class Trainer:
    """One run of one variant: its weights, optimiser state and training set on the device."""

    def __init__(self, spec: TrainSpec, module: Any):
        runtime.make_deterministic(spec.device)
        runtime.warm_up(spec.device)
        self.spec, self.module, self.hp = spec, module, dict(spec.hyperparameters)
        params = getattr(module, "params", runtime.tensors)
        run = {"spec": spec} if "spec" in inspect.signature(params).parameters else {}
        self.w = params(spec.initial_weights, spec.device, **run)
        self.state = getattr(module, "initial_state", lambda w: {})(self.w)
        if spec.initial_state:  # resuming: the optimiser where the interrupted run left it
            self.state = {
                k: torch.tensor(np.asarray(spec.initial_state[k]), dtype=v.dtype, device=v.device)
                for k, v in self.state.items()
            }
        self.x = tensor(spec.x_train, spec.device)
        self.y = training_targets(module, tensor(spec.y_train, spec.device), spec.classes)
        self.captured = graphs.capture(spec, module, self.w, self.state, self.hp, self.x, self.y)

    def train_epoch(self, epoch: int) -> EpochResult:
        """Every batch of ``spec.epochs[epoch]`` through the variant's ``STEP``, in order, with
        denormals flushed to zero on the CPU."""
        if self.captured is not None:
            return self._result(self.captured.train_epoch(epoch))
        with runtime.flush_denormals(self.spec.device), torch.no_grad():
            return self._result(self._train_eagerly(epoch))

    def _train_eagerly(self, epoch: int) -> torch.Tensor:
        """The epoch's steps one by one; their losses, on the device."""
        spec, step, device = self.spec, self.module.STEP, self.spec.device
        index = tensor(spec.epochs[epoch], device)
        # One gather kernel per epoch, each batch then a slice (a view), unless the epoch's
        # images outgrow a CPU's cache: then each batch is gathered when it is used, while its
        # rows are still in the cache (a gathered copy of all MNIST is 188 MB of traffic).
        epoch_bytes = len(index) * self.x[0].nbytes
        gather_per_batch = device == "cpu" and epoch_bytes > GATHER_EPOCH_BYTES
        xs, ys = (self.x, self.y) if gather_per_batch else (self.x[index], self.y[index])
        extras = {name: tensor(per_epoch[epoch], device) for name, per_epoch in spec.extras.items()}
        # Each batch a view made in one call per tensor (split), not a slice per step
        size = spec.batch_size
        if gather_per_batch:
            xy = ((xs.index_select(0, b), ys.index_select(0, b)) for b in index.split(size))
        else:
            xy = zip(xs.split(size), ys.split(size), strict=True)
        per_batch = zip(*(v.split(size) for v in extras.values())) if extras else repeat(())
        returned = []  # each step's loss, or what it is computed from: no copy kernel per step
        for (x, y), extra in zip(xy, per_batch, strict=False):  # repeat(()) never ends
            batch_extras = dict(zip(extras, extra, strict=True))
            returned.append(step(self.w, self.state, x, y, batch_extras, self.hp))
        full = len(index) // size
        batches = (returned[:full], returned[full:])  # a shorter last batch stacks apart
        return torch.cat([runtime.step_losses(self.module, torch.stack(b)) for b in batches if b])

    def _result(self, losses: torch.Tensor) -> EpochResult:
        """The epoch's step losses with the weights and optimiser state after it, on the host."""
        spec = self.spec
        to_weights = getattr(self.module, "weights", lambda w, weights: to_numpy(w))
        weights = to_weights(self.w, spec.initial_weights)
        state = {k: v.cpu().numpy().copy() for k, v in self.state.items()}
        return EpochResult(losses.cpu().double().numpy(), weights, state)


def training_targets(module, labels: torch.Tensor, classes: int) -> torch.Tensor:
    """The module's ``targets`` of ``labels``, given the classes where it takes them (a module
    written before datasets of other shapes takes the labels alone); the labels without one."""
    targets = getattr(module, "targets", None)
    if targets is None:
        return labels
    takes_classes = len(inspect.signature(targets).parameters) > 1
    return targets(labels, classes) if takes_classes else targets(labels)
