"""What a variant is, and the helpers every variant module shares.

A variant module declares one network once: its default hyperparameters, three functions of the
core's own random streams (input scaling, initial weights and the training plan: sample order,
batch size, random masks), its float64 reference arithmetic, its cost, its contract and its input
layout. It reaches the core through the ``mnistbench.variants`` entry-point group, as a backend
does (:func:`mnistbench.plugin.variant_registry.installed_variants`). Backends implement only
the arithmetic, themselves or through step modules the variant ships
(:class:`~mnistbench.variants.parts.StepModule`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnistbench.data.shapes import MNIST, Shape
from mnistbench.errors import MnistbenchError
from mnistbench.variants.parts import Cost, InputLayout, Reference, StepModule, Weights


@dataclass(frozen=True)
class Plan:
    """The order in which training visits samples, and any random inputs beyond the data."""

    epochs: list[np.ndarray]  # per epoch, int64 sample indices in visiting order
    batch_size: int
    extras: Mapping[str, Sequence[np.ndarray]] = field(default_factory=dict)  # see TrainSpec.extras


@dataclass(frozen=True)
class Contract:
    """What every backend computes for a variant, in words a plugin author implements from.

    The weights' names and shapes, the hyperparameters' types and defaults, the input scaling and
    the training plan are not written here: ``python -m mnistbench variants`` reads them off the
    variant itself (see :mod:`mnistbench.plugin.contract`), so they cannot drift from the code.
    """

    forward: str  # the forward pass, with shapes
    loss: str  # the loss of one step and its reduction over the batch
    update: str  # how one step changes the weights (and any optimiser state)
    predict: str  # what ``predict`` returns: logits, probabilities or outputs
    hyperparameters: Mapping[str, str]  # meaning (and range) of each hyperparameter


@dataclass(frozen=True)
class Variant:
    """One network of the benchmark, as the core defines it for every backend."""

    name: str
    seed_notebook: str  # the notebook it comes from
    summary: str  # one line for tables and the report
    seed_fix: str  # the notebook's bug this variant fixes, for the report ("" if none)
    seed_accuracy: float  # the test accuracy the notebook reports
    defaults: Mapping[str, Any]
    prepare_inputs: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray]
    # initial_weights(rng, hyperparameters[, shape]): with ``sized_by_data``, sized from the
    # dataset's image size and classes (a Shape); without, MNIST's (see ``weights_for``).
    initial_weights: Callable[..., Weights]
    # plan(order_rng, mask_rng, n_train, hyperparameters)
    plan: Callable[[np.random.Generator, np.random.Generator, int, Mapping[str, Any]], Plan]
    # The shape of each weight for these hyperparameters (and, with ``sized_by_data``, the
    # dataset's shape), computed without making the weights.
    weight_shapes: Callable[..., dict[str, tuple[int, ...]]]
    # Bytes the plan holds for ``n_train`` samples (orders, one epoch's masks), without making it.
    plan_bytes: Callable[[Mapping[str, Any], int], int]
    contract: Contract
    # Its arithmetic in float64, for the conformance suite (see parts.Reference).
    reference: Reference
    # Its cost per sample, for the schedule; None: not measured (its runs start after the others).
    cost: Cost | None = None
    # How prepare_inputs lays a sample out: "flat" (N, pixels) or "images" (N, 1, H, W).
    input_layout: InputLayout = "flat"
    # Implementations the variant ships for backends (see parts.StepModule); the built-in
    # variants have none: each backend implements them itself.
    steps: tuple[StepModule, ...] = ()
    # Overrides that make a short run (at least 20 steps on 96 samples): conformance and tests.
    small: Mapping[str, Any] = field(default_factory=dict)
    # Whether initial_weights and weight_shapes take the dataset's Shape as a third argument;
    # a variant that does not is run on MNIST-shaped data only.
    sized_by_data: bool = False
    # Why a variant sized by data cannot take a dataset's shape, or None where it can.
    takes: Callable[[Shape], str | None] = lambda shape: None
    # Hyperparameters bounded above (every one must be above 0), e.g. a probability at most 1.
    upper_limits: Mapping[str, float] = field(default_factory=dict)
    # Where the defaults depart from the notebook's recipe, and why, for the report ("" if nowhere).
    departure: str = ""
    # Overrides that put the notebook's own values back where a default hyperparameter departs from
    # them, so the notebook's recipe stays one setting away and bench/accuracy.py measures it side
    # by side. Empty where the departure is not a hyperparameter (predictive_coding's network).
    seed_recipe: Mapping[str, Any] = field(default_factory=dict)
    # Why the variant has no autograd implementation, in one line, where its update is not the
    # gradient of one loss (predictive coding's local rules); "" where it is.
    not_a_gradient: str = ""

    def hyperparameters(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults updated with ``overrides``, refusing keys the variant does not know."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise MnistbenchError(
                f"variant {self.name!r}: unknown hyperparameter(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(self.defaults))})"
            )
        merged = {**self.defaults, **overrides}
        for key, value in merged.items():
            self._check(key, value)
        return merged

    def refuses(self, shape: Shape) -> str | None:
        """Why the variant cannot take data of ``shape``, in words; None where it can."""
        if not self.sized_by_data:
            return None if shape == MNIST else f"it is sized for MNIST's {MNIST}, not from the data"
        return self.takes(shape)

    def weights_for(self, rng: np.random.Generator, hp: Mapping[str, Any], shape: Shape):
        """Initial weights sized for data of ``shape`` (MNIST's for a variant not sized by data)."""
        sized = (shape,) if self.sized_by_data else ()
        return self.initial_weights(rng, hp, *sized)

    def shapes_for(self, hp: Mapping[str, Any], shape: Shape) -> dict[str, tuple[int, ...]]:
        """The weights' shapes for data of ``shape``, as :meth:`weights_for` makes them."""
        return self.weight_shapes(hp, *((shape,) if self.sized_by_data else ()))

    def memory_bytes(self, hp: Mapping[str, Any], n_train: int, shape: Shape = MNIST) -> int:
        """About how much memory a run needs beyond its data: the float32 weights four times
        over (weights, gradients, two optimiser moments) and the training plan."""
        params = sum(math.prod(size) for size in self.shapes_for(hp, shape).values())
        return 16 * params + self.plan_bytes(hp, n_train)

    def check_fits(
        self, hp: Mapping[str, Any], n_train: int, available: int, shape: Shape = MNIST
    ) -> None:
        """Refuse, in one line and before allocating anything, sizes that cannot fit in memory."""
        needed = self.memory_bytes(hp, n_train, shape)
        if needed <= available:
            return
        changed = [f"{k}={v}" for k, v in hp.items() if v != self.defaults[k]]
        which = f"with {', '.join(changed)}" if changed else "with its default sizes"
        on = "" if shape == MNIST else f" on {shape}"
        raise MnistbenchError(
            f"variant {self.name!r} {which}{on} needs about {_gib(needed)} of memory for its "
            f"weights and training plan, more than the {_gib(available)} here; use smaller sizes"
        )

    def _check(self, key: str, value: Any) -> None:
        """Every hyperparameter is a positive finite number of its default's type, within its
        limit."""
        integral = isinstance(self.defaults[key], int)
        kinds = (int,) if integral else (int, float)
        limit = self.upper_limits.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, kinds)
            or not 0 < value < math.inf
            or (limit is not None and value > limit)
        ):
            wanted = "an integer" if integral else "a finite number"
            bound = f" and at most {limit}" if limit is not None else ""
            raise MnistbenchError(
                f"variant {self.name!r}: hyperparameter {key!r} must be {wanted} above 0{bound}, "
                f"got {value!r}"
            )


def _gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB"


class PerEpoch(Sequence):
    """Per-epoch random arrays made on demand, so memory holds one epoch's at a time.

    Epoch ``e``'s array comes from a generator seeded by ``(seed, e)``: the same values every
    time it is asked for, by any backend.
    """

    def __init__(self, epochs: int, seed: int, make: Callable[[np.random.Generator], np.ndarray]):
        self.epochs, self.seed, self.make = epochs, seed, make

    def __len__(self) -> int:
        return self.epochs

    def __getitem__(self, epoch: int) -> np.ndarray:
        if not 0 <= epoch < self.epochs:
            raise IndexError(epoch)
        return self.make(np.random.default_rng([self.seed, epoch]))


def random_streams(seed: int, n: int = 3) -> list[np.random.Generator]:
    """Independent generators for initial weights, sample order and masks, all from ``seed``.

    Separate streams keep each choice stable when another changes: more epochs do not alter the
    initial weights.
    """
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def flatten_scaled(images: np.ndarray, scale: float = 1 / 255) -> np.ndarray:
    """(N, rows, cols) uint8 -> (N, rows*cols) float32, multiplied by ``scale``: a new array,
    scaled in place (all MNIST is 188 MB in float32; each temporary that size costs a tenth of
    a second of page faults in every job)."""
    flat = images.reshape(len(images), -1).astype(np.float32)
    flat *= np.float32(scale)
    return flat


def unit_pixels(images: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Pixels / 255, flattened: (N, 784) float32 in [0, 1]."""
    return flatten_scaled(images)


def shuffled_plan_bytes(hp: Mapping[str, Any], n_train: int) -> int:
    """Bytes of :func:`shuffled_plan`'s orders: one int64 permutation per epoch."""
    return 8 * int(hp["epochs"]) * n_train


def shuffled_plan(
    order_rng: np.random.Generator,
    mask_rng: np.random.Generator,
    n_train: int,
    hp: Mapping[str, Any],
) -> Plan:
    """A fresh random permutation of the training set every epoch (a shuffling DataLoader's
    order), in batches of ``hp["batch_size"]``; no masks."""
    epochs = [order_rng.permutation(n_train).astype(np.int64) for _ in range(int(hp["epochs"]))]
    return Plan(epochs=epochs, batch_size=int(hp["batch_size"]))


def file_order_plan(
    samples: int,
    epochs: int,
    batch_size: int,
    extras: Mapping[str, Sequence[np.ndarray]] | None = None,
) -> Plan:
    """Every epoch visits the first ``samples`` training samples in file order (one order, shared
    by every epoch), in batches of ``batch_size``, with ``extras`` (see :class:`Plan`)."""
    order = np.arange(samples, dtype=np.int64)
    return Plan(epochs=[order] * epochs, batch_size=batch_size, extras=dict(extras or {}))


def file_order_plan_bytes(samples: int, epochs: int) -> int:
    """Bytes of :func:`file_order_plan`'s orders: one int64 order, and a reference per epoch."""
    return 8 * (samples + epochs)
