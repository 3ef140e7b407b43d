"""What a backend is: the small, typed surface between the core and a plugin.

The core decides everything that must be identical across backends (initial weights, the order
of samples, input scaling, random masks) and passes it in a :class:`TrainSpec`; the backend does
the arithmetic and hands back plain NumPy arrays. That is what lets any backend evaluate any
other backend's model, and what makes the loss trajectories of two backends comparable.

Training has two phases, and only the second is timed: :meth:`Backend.setup` does the work that
happens once per run (weights and data onto the device, compilation, warm-up) and returns a
:class:`Trainer`; the core then times each :meth:`Trainer.train_epoch` call, and nothing else.

Resuming: a backend that sets ``resumable = True`` hands back its optimiser state with every
epoch (:attr:`EpochResult.state`) and can be started again from it (:attr:`TrainSpec.start_epoch`,
:attr:`TrainSpec.initial_state`); the core checkpoints both after each epoch, so an interrupted
run continues where it stopped and ends exactly as an uninterrupted one would.

Implementations: a backend may run a variant in more than one way, say as hand-tuned kernels
(``tuned``), as people write it with the framework's autograd and optimiser (``autograd``) and
compiled (``compiled``). It lists them in an optional ``implementations`` attribute, its default
first (absent: ``("tuned",)``), and may narrow them per variant with an optional
``implementations_for(variant)`` method; the run's choice reaches it as
:attr:`TrainSpec.implementation`. :func:`implementations` and :func:`default_implementation` read
these for the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

Weights = dict[str, np.ndarray]
TUNED = "tuned"  # the implementation of a backend that names none


@dataclass(frozen=True)
class TrainSpec:
    """Everything a backend needs to train one variant, fixed by the core.

    Batches are consecutive slices of ``batch_size`` samples taken from each epoch's order;
    the last batch of an epoch may be shorter.
    """

    variant: str
    hyperparameters: Mapping[str, Any]
    initial_weights: Mapping[str, np.ndarray]
    x_train: np.ndarray  # (N, pixels) float32, already scaled as the variant wants
    y_train: np.ndarray  # (N,) int64 class indices, 0..classes-1
    epochs: Sequence[np.ndarray]  # one int64 array of sample indices per epoch, in visiting order
    batch_size: int
    device: str  # "cpu" or "cuda", already resolved from "auto"
    # Per-sample random inputs made by the core (e.g. dropout masks): for each name, one array
    # per epoch whose row i belongs to the i-th sample visited in that epoch.
    extras: Mapping[str, Sequence[np.ndarray]] = field(default_factory=dict)
    # Resuming (only for a backend with ``resumable = True``): train epochs ``start_epoch`` to the
    # last, starting from ``initial_weights`` (then the weights after epoch ``start_epoch - 1``)
    # and ``initial_state`` (then the ``state`` that epoch's EpochResult carried). An empty
    # ``initial_state`` means a fresh optimiser. The epochs' orders and extras are unchanged:
    # ``epochs[start_epoch]`` is still the next epoch's order.
    start_epoch: int = 0
    initial_state: Mapping[str, np.ndarray] = field(default_factory=dict)
    # The dataset's number of classes (outputs of the network), from its labels: 10 on MNIST.
    classes: int = 10
    # The implementation to train with: one of the backend's ``implementations`` for this
    # variant (see the module's docstring); the backend's default where the run names none.
    implementation: str = TUNED

    def steps_in_epoch(self, epoch: int) -> int:
        """Number of optimiser steps in ``epoch``."""
        return -(-len(self.epochs[epoch]) // self.batch_size)


@dataclass(frozen=True)
class EpochResult:
    """What a trainer returns from each epoch."""

    losses: np.ndarray  # (steps,) training loss of each step, measured before its update
    weights: Weights  # the weights after the epoch, as float32 NumPy arrays on the host
    # The optimiser's state after the epoch (e.g. Adam's moments and step count) as host NumPy
    # arrays, named as the backend likes; empty for a stateless optimiser such as plain SGD.
    # Given back as TrainSpec.initial_state, it must continue training bit for bit.
    state: Mapping[str, np.ndarray] = field(default_factory=dict)


class Trainer(Protocol):
    """One run's training, set up and ready: what :meth:`Backend.setup` returns.

    It holds the weights and optimiser state between epochs, on whatever device it likes.
    """

    def train_epoch(self, epoch: int) -> EpochResult:
        """Train epoch ``epoch`` (``spec.epochs[epoch]``, its batches in order) and return its
        step losses and the weights (and optimiser state) after it, as host NumPy arrays.

        Timed: the core counts the whole call as training time, so do here only the epoch's
        training and the copy of its results to the host (which also waits for a GPU).
        The core calls it once per epoch, in order, from ``spec.start_epoch`` to the last.
        """


@runtime_checkable
class Backend(Protocol):
    """A training backend, as returned by ``mnistbench_register_backends``."""

    name: str  # short, lowercase, used in paths and tables: "numpy", "torch"
    version: str  # version of the framework doing the arithmetic, for provenance
    variants: frozenset[str]  # the model variants this backend implements

    def unavailable_reason(self) -> str | None:
        """Return why this backend cannot run here (e.g. its framework is missing), else None."""

    def devices(self) -> list[str]:
        """Return the devices usable here, preferred first (e.g. ``["cuda", "cpu"]``)."""

    def setup(self, spec: TrainSpec) -> Trainer:
        """Prepare to train ``spec.variant`` from ``spec.initial_weights``; return the trainer.

        Not timed: put the weights and the training set on ``spec.device``, compile, allocate
        buffers and warm up here, so that no epoch's time includes them.

        A backend whose ``resumable`` attribute is true (optional; absent means false) starts at
        ``spec.start_epoch`` from ``spec.initial_state`` and fills :attr:`EpochResult.state`;
        resumed from any epoch's weights and state, its trainer must return exactly what the
        uninterrupted run returns from there. The core never resumes a backend that does not
        say it can: it trains it again from the first epoch.
        """

    def predict(
        self,
        variant: str,
        hyperparameters: Mapping[str, Any],
        weights: Mapping[str, np.ndarray],
        x: np.ndarray,
        device: str,
    ) -> np.ndarray:
        """Return class scores, shape (len(x), n_classes), for inputs scaled as in training."""


def train_all(backend: Backend, spec: TrainSpec) -> list[EpochResult]:
    """Set ``backend`` up for ``spec`` and train every epoch from ``spec.start_epoch``, untimed
    and unchecked: for tests and tools. A real run goes through
    :func:`mnistbench.training.epochs.fit`.
    """
    trainer = backend.setup(spec)
    return [trainer.train_epoch(epoch) for epoch in range(spec.start_epoch, len(spec.epochs))]


def implementations(backend: Backend, variant: str | None = None) -> tuple[str, ...]:
    """The implementations ``backend`` offers, its default first: for ``variant`` where given
    (its optional ``implementations_for``), else all; ``("tuned",)`` for a backend naming none."""
    offered = tuple(getattr(backend, "implementations", None) or (TUNED,))
    narrowed = getattr(backend, "implementations_for", None)
    if variant is None or narrowed is None:
        return offered
    return tuple(i for i in offered if i in narrowed(variant))


def default_implementation(backend: Backend) -> str:
    """The implementation a run of ``backend`` gets when it names none: the first it offers."""
    return implementations(backend)[0]


def is_resumable(backend: Backend) -> bool:
    """Whether ``backend`` declares that it can resume (``resumable = True``, optional)."""
    return bool(getattr(backend, "resumable", False))
