"""The parts of a variant's declaration beyond its plan: its float64 reference arithmetic, its
cost for the schedule, and the step implementations it ships for backends.

A variant module fills these in once, beside its defaults and plan
(:class:`mnistbench.variants.base.Variant`), so nothing in the core asks a variant's name to
know how to train, price or run it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

Weights = dict[str, np.ndarray]
Hyperparameters = Mapping[str, Any]
# How ``prepare_inputs`` lays each sample out: "flat" (N, pixels) or "images" (N, 1, H, W).
InputLayout = Literal["flat", "images"]


class Optimiser(Protocol):
    """A float64 optimiser of the reference arithmetic: ``step`` updates ``w`` in place."""

    def step(self, w: Weights, grads: Weights) -> None: ...


@dataclass(frozen=True)
class Reference:
    """The variant's arithmetic in float64, written from its contract, sharing no code with any
    backend: the yardstick the conformance suite holds the reference backend to."""

    # (w, x, y, hp, extras) -> (the batch's loss, the gradient of every trained weight), where
    # ``extras`` holds the batch's rows of the plan's extras (e.g. dropout masks), as float64.
    loss_and_gradients: Callable[
        [Weights, np.ndarray, np.ndarray, Hyperparameters, Mapping[str, np.ndarray]],
        tuple[float, Weights],
    ]
    # (w, x, hp) -> what the contract says ``predict`` returns, (N, classes)
    predict: Callable[[Weights, np.ndarray, Hyperparameters], np.ndarray]
    # hp -> the optimiser that applies the gradients (float64.SGD or float64.Adam)
    optimiser: Callable[[Hyperparameters], Optimiser]


def epochs_times_samples(hp: Hyperparameters, n_train: int) -> int:
    """Samples a plan of ``hp["epochs"]`` passes over the training set visits."""
    return int(hp.get("epochs", 1)) * n_train


@dataclass(frozen=True)
class Cost:
    """What a run of the variant costs: the schedule starts the longest runs first."""

    # Seconds per training sample on one CPU core (NumPy backend, measured with bench/speed.py).
    seconds_per_sample: float
    # (hp, n_train) -> the training samples a run's plan visits: what its time grows with.
    samples_visited: Callable[[Hyperparameters, int], int] = epochs_times_samples

    def seconds(self, hp: Hyperparameters, n_train: int) -> float:
        """A run's expected seconds on one core."""
        return self.seconds_per_sample * self.samples_visited(hp, n_train)


@dataclass(frozen=True)
class StepModule:
    """An implementation of the variant for one backend, shipped with the variant.

    ``module`` is imported by the backend named ``backend`` when it trains or predicts the
    variant, and is written to that backend's protocol for ``implementation`` at ``protocol``
    (``docs/step-protocol.md``): hand-written steps for ``tuned``, the model's forward pass and
    loss for ``autograd`` (PyTorch's autograd and ``torch.optim`` train it, eagerly or through
    ``torch.compile``). A backend that speaks another version of the protocol leaves the
    variant's implementation out of the ones it offers.
    """

    backend: str  # the backend's name: "numpy", "torch", "jax"
    module: str  # the importable module holding the step functions
    protocol: int  # the version of that backend's step protocol the module follows
    implementation: str = "tuned"  # what the module is: "tuned" steps or an "autograd" model
