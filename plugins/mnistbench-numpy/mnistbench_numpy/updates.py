"""Plain SGD, in place, as the NumPy variants update their weights (Adam is in
:mod:`mnistbench_numpy.adam`).

A weight matrix's gradient is kept as its two factors, ``Outer(a, d)`` for ``a.T @ d`` (the
layer's inputs (B, in) and the gradient at its outputs (B, out)): SGD then applies
``W -= lr * a.T @ d`` as one BLAS call that accumulates into ``W`` (``sgemm`` with beta = 1), with
no (in, out) temporary for the gradient or for ``lr`` times it. ``W.T`` of a C-ordered ``W`` is
Fortran-ordered, which is the order BLAS updates in place, so nothing is copied either.
"""

from __future__ import annotations

from collections.abc import Mapping
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
