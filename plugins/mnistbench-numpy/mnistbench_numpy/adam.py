"""Adam in one fused pass, in place: the optimiser of ``mnn`` in NumPy.

Written as a numba kernel: Adam in NumPy ufuncs is ten passes over the weights with temporaries,
four times slower than the arithmetic; the kernel does each element's update in one pass, in the
same float32 operations in the same order. It has its own module so that only ``mnn`` jobs load
numba (about 0.6 s per process); the compiled kernel is cached beside this file.
"""

from __future__ import annotations

import numba
import numpy as np


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
