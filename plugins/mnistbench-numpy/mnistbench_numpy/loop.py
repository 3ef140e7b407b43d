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

from typing import Any

import numpy as np

from mnistbench.plugin import (
    EpochResult,
    TrainSpec,
    batches,
    float32_weights,
    flush_denormals,
    trained_part,
)


class Trainer:
    """One run of one variant: the weights and optimiser state between epochs."""

    def __init__(self, spec: TrainSpec, module: Any):
        self.spec, self.module = spec, module
        self.hp = dict(spec.hyperparameters)
        self.weights = float32_weights(spec.initial_weights)  # its own copy: the spec's stay
        self.p = trained_part(module, self.weights, spec)
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
        return EpochResult(losses, float32_weights(self.weights), state)

    def _steps(self, epoch: int) -> np.ndarray:
        """The epoch's steps one by one, on the core's batches (:func:`mnistbench.plugin.batches`);
        their losses."""
        step, w, state, hp = self.module.STEP, self.p, self.state, self.hp
        losses = np.empty(self.spec.steps_in_epoch(epoch))
        for i, (x, y, extras) in enumerate(batches(self.spec, epoch)):
            losses[i] = step(w, state, x, y, extras, hp)
        return losses
