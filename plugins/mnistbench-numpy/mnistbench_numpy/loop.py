"""The one training loop of the NumPy backend: batches in the core's order, one ``STEP`` each.

A variant module supplies ``STEP(w, state, x, y, extras, hp) -> loss``: one batch's training,
updating the float32 weights ``w`` and the optimiser state ``state`` in place and returning the
batch's loss measured before the update; and ``initial_state(w)``, the optimiser state a fresh
run starts from (``{}`` for plain SGD). ``w`` is the weights, or, where a module defines
``params(weights)`` (or ``params(weights, spec)``, given the run's TrainSpec to size the part from
the data) and ``weights(p, weights)``, the part of them it trains (mnn trains 110 of its matrix's
895 columns on MNIST). Per-sample extras from the core (dropout masks) arrive sliced to the
batch. Creating the :class:`Trainer` is the set-up; :meth:`Trainer.train_epoch` is what the
core times.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from mnistbench.plugin.backend import EpochResult, TrainSpec
from mnistbench.plugin.denormals import flush_denormals


class Trainer:
    """One run of one variant: the weights and optimiser state between epochs."""

    def __init__(self, spec: TrainSpec, module: Any):
        self.spec, self.module = spec, module
        self.hp = dict(spec.hyperparameters)
        self.weights = {k: np.array(v, dtype=np.float32) for k, v in spec.initial_weights.items()}
        params = getattr(module, "params", lambda weights: weights)
        run = {"spec": spec} if "spec" in inspect.signature(params).parameters else {}
        self.p = params(self.weights, **run)
        self.state = module.initial_state(self.p)
        if spec.initial_state:  # resuming: the optimiser where the interrupted run left it
            self.state = {
                k: np.array(spec.initial_state[k], dtype=v.dtype) for k, v in self.state.items()
            }

    def train_epoch(self, epoch: int) -> EpochResult:
        """Every batch of ``spec.epochs[epoch]`` through the variant's ``STEP``, in order, with
        denormals flushed to zero (:mod:`mnistbench.plugin.denormals`)."""
        with flush_denormals():
            losses = self._steps(epoch)
        to_weights = getattr(self.module, "weights", lambda p, weights: p)
        self.weights = to_weights(self.p, self.weights)
        state = {k: v.copy() for k, v in self.state.items()}
        return EpochResult(losses, {k: v.copy() for k, v in self.weights.items()}, state)

    def _steps(self, epoch: int) -> np.ndarray:
        """The epoch's steps one by one; their losses."""
        spec, step = self.spec, self.module.STEP
        order = spec.epochs[epoch]
        extras = {name: per_epoch[epoch] for name, per_epoch in spec.extras.items()}
        losses = np.empty(spec.steps_in_epoch(epoch))
        for i, start in enumerate(range(0, len(order), spec.batch_size)):
            rows = slice(start, start + spec.batch_size)
            batch = order[rows]
            x, y = spec.x_train[batch], spec.y_train[batch]
            batch_extras = {name: value[rows] for name, value in extras.items()}
            losses[i] = step(self.p, self.state, x, y, batch_extras, self.hp)
        return losses
