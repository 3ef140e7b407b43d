"""The kernels a training step cannot skip, per variant, for bench/floor.py.

A variant's step is described here, beside the bench, not in the core: the core says what a
variant computes, this package says what that costs at least. Each description is a function of
the variant's hyperparameters and the shape of one training sample, returning
:class:`StepKernels`: the batch gathered, the matrix products at the variant's shapes, the
optimiser's passes, and the framework calls a step cannot avoid (the kernels included). A variant
with no description gets a row that says so; to add one, write its function in
:mod:`floors.variants` and list it in ``DESCRIBED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# forward:  C (m, n) = A (m, k) @ W (k, n)          the layer's product
# backward: C (m, n) = D (m, k) @ W.T, W (n, k)       the gradient back through a weight
# gradient: G (m, n) = X.T @ D, X (k, m), D (k, n)    a weight's gradient, kept for its optimiser
# update:   W (m, n) -= lr * X.T @ D                   SGD: the gradient accumulated into W in one
#                                                      product, so no (m, n) temporary is written
Kind = Literal["forward", "backward", "gradient", "update"]


@dataclass(frozen=True)
class Product:
    """One matrix product of a step: (m, k) times (k, n), laid out as ``kind`` says."""

    name: str
    kind: Kind
    m: int
    k: int
    n: int


@dataclass(frozen=True)
class StepKernels:
    """What one step of a variant must run, whatever code surrounds it."""

    batch: int  # samples per step
    products: tuple[Product, ...]
    calls: int  # framework calls a step cannot avoid (gather and products included)
    calls_are: str  # what those calls are, in words
    adam: tuple[tuple[int, ...], ...] = ()  # the shapes Adam updates, one fused pass each

    def kernel_calls(self) -> int:
        """Calls the kernels timed one by one make: the gather (images, labels), each product
        and each Adam update."""
        return 2 + len(self.products) + len(self.adam)
