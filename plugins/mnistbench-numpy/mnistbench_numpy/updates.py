"""Plain SGD, in place, as the NumPy variants update their weights (Adam is in
:mod:`mnistbench_numpy.adam`).

A weight matrix's gradient is kept as its two factors, ``Outer(a, d)`` for ``a.T @ d`` (the
layer's inputs (B, in) and the gradient at its outputs (B, out)): SGD then applies
``W -= lr * a.T @ d`` as one BLAS call that accumulates into ``W`` (``sgemm`` with beta = 1), with
no (in, out) temporary for the gradient or for ``lr`` times it. ``W.T`` of a C-ordered ``W`` is
Fortran-ordered, which is the order BLAS updates in place, so nothing is copied either.

A variant trained by plain SGD writes only its ``loss_and_factors(w, x, y)``;
:func:`sgd_step` and :func:`gradients_as_arrays`, given it, are its ``STEP`` and its
``loss_and_gradients``; :func:`no_state` is its ``initial_state``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from scipy.linalg.blas import sgemm


class Outer(NamedTuple):
    """The gradient ``a.T @ d`` of a weight matrix, kept as its factors."""

    a: np.ndarray  # (B, in), the layer's inputs
    d: np.ndarray  # (B, out), d loss / d the layer's outputs

    def full(self) -> np.ndarray:
        return self.a.T @ self.d  # (in, out)


Gradients = Mapping[str, "Outer | np.ndarray"]
Weights = Mapping[str, np.ndarray]
# loss_and_factors(w, x, y) -> (loss, gradients): a variant's loss and its factored gradients.
LossAndFactors = Callable[[Weights, np.ndarray, np.ndarray], tuple[float, Gradients]]


def dense(grads: Gradients) -> dict[str, np.ndarray]:
    """Every gradient as an array (the factored ones multiplied out)."""
    return {k: g.full() if isinstance(g, Outer) else g for k, g in grads.items()}


def sgd(w: Mapping[str, np.ndarray], grads: Gradients, lr: float) -> None:
    """w -= lr * g, in place, for every weight that has a gradient."""
    lr = np.float32(lr)
    for key, g in grads.items():
        p = w[key]
        if isinstance(g, Outer) and p.dtype == np.float32 and p.flags.c_contiguous:
            # p.T (out, in) += -lr * d.T @ a, given as d.T (out, B) and a.T (in, B), transposed
            sgemm(-lr, g.d.T, g.a.T, beta=1.0, c=p.T, trans_b=True, overwrite_c=True)
        else:
            p -= lr * (g.full() if isinstance(g, Outer) else g)


def sgd_step(loss_and_factors: LossAndFactors, w, state, x, y, extras, hp) -> float:
    """One plain-SGD step on the batch; the loss before it. A variant's ``STEP`` is this with
    its ``loss_and_factors`` bound (``functools.partial``)."""
    loss, grads = loss_and_factors(w, x, y)
    sgd(w, grads, hp["lr"])
    return loss


def gradients_as_arrays(loss_and_factors: LossAndFactors, w, x, y, hp=None):
    """The loss and every gradient as an array, for the gradient checks: a variant's
    ``loss_and_gradients(w, x, y, hp=None)`` is this with its ``loss_and_factors`` bound."""
    loss, grads = loss_and_factors(w, x, y)
    return loss, dense(grads)


def no_state(w: Mapping[str, np.ndarray]) -> dict:
    """The optimiser state of plain SGD: none."""
    return {}
