"""The update rules the NumPy variants use: plain SGD and Adam, in place.

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


def adam(p, g, m, v, step: int, hp, scratch=None) -> None:
    """One Adam update of ``p`` in place, in torch.optim.Adam's order of operations, except
    that the second moment's bias correction multiplies by its reciprocal (as the PyTorch
    backend does; faster than dividing).

    m, v: running means of g and g*g (in place); step counts from 1; ``scratch``: two arrays
    like ``p`` to work in, so the update allocates nothing.
    """
    lr, beta1, beta2, eps = (float(hp[k]) for k in ("lr", "beta1", "beta2", "eps"))
    t, denom = scratch if scratch is not None else (np.empty_like(p), np.empty_like(p))
    np.subtract(g, m, out=t)  # torch: exp_avg.lerp_(grad, 1 - beta1)
    t *= np.float32(1 - beta1)
    m += t
    v *= np.float32(beta2)  # torch: addcmul_(grad, grad, value=1 - beta2)
    np.multiply(g, g, out=t)
    t *= np.float32(1 - beta2)
    v += t
    step_size = lr / (1 - beta1**step)  # bias corrections in double, as torch does
    np.sqrt(v, out=denom)
    denom *= np.float32(1 / (1 - beta2**step) ** 0.5)
    denom += np.float32(eps)
    np.divide(m, denom, out=t)
    t *= np.float32(step_size)
    p -= t
