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

import numba
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


@numba.njit(
    "void(float32[::1], float32[::1], float32[::1], float32[::1],"
    " float32, float32, float32, float32, float32, float32)",
    cache=True,
    nogil=True,
    error_model="numpy",  # x / 0 is inf as in NumPy, not a Python check that stops SIMD
)
def _adam_kernel(p, g, m, v, one_minus_beta1, beta2, one_minus_beta2, denom_scale, eps, step_size):
    """Adam on flat float32 arrays in one pass, in float32, in the order numbered in
    :func:`adam` (numba contracts no multiply-add into an FMA unless asked, so each operation
    rounds as NumPy's would)."""
    for i in range(p.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta1
        vi = v[i] * beta2 + (gi * gi) * one_minus_beta2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi / (np.sqrt(vi) * denom_scale + eps)) * step_size


def _flat(a: np.ndarray) -> np.ndarray:
    """A flat view of ``a``; never a copy, which would drop an in-place update."""
    if a.dtype != np.float32 or not a.flags.c_contiguous:
        raise ValueError(f"Adam works on C-contiguous float32 arrays in place, got {a.dtype}")
    return a.reshape(-1)


def adam(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, step: int, hp) -> None:
    """One Adam update of ``p`` in place (float32, C-contiguous), in torch.optim.Adam's order of
    operations, except that the second moment's bias correction multiplies by its reciprocal
    (as the PyTorch backend does; faster than dividing):

    1. m += (g - m) * (1 - beta1)  (torch: exp_avg.lerp_(grad, 1 - beta1))
    2. v = v * beta2 + g * g * (1 - beta2)  (torch: mul_(beta2).addcmul_(grad, grad, 1 - beta2))
    3. p -= m / (sqrt(v) / sqrt(1 - beta2**step) + eps) * lr / (1 - beta1**step)

    m, v: running means of g and g*g (in place); step counts from 1. One fused pass over the
    arrays (:func:`_adam_kernel`), 4x faster than the ten NumPy passes it replaces; the bias
    corrections are computed in double, as torch does.
    """
    lr, beta1, beta2, eps = (float(hp[k]) for k in ("lr", "beta1", "beta2", "eps"))
    f = np.float32
    _adam_kernel(
        *map(_flat, (p, g, m, v)),
        f(1 - beta1),
        f(beta2),
        f(1 - beta2),
        f(1 / (1 - beta2**step) ** 0.5),
        f(eps),
        f(lr / (1 - beta1**step)),
    )
