"""The kernels of a step, one framework call each, in NumPy and in PyTorch on the CPU.

Each framework gives, for a :class:`~floors.StepKernels`, a list of ``(name, run(rows))``: the
gather of a batch's rows, every product into a buffer made beforehand, and each Adam update with
the backend's own kernel (numba's in NumPy, the fused one in PyTorch); SGD's products accumulate
into the weight in place (``sgemm`` with beta 1, ``addmm_``), as the backends update. Operand
values change no kernel's cost (denormals are flushed, as in training), only shapes do, so they
are random. :func:`least_call` is the framework's cheapest call, which the calls a step cannot
avoid beyond these kernels cost at least.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from floors import Product, StepKernels

Kernel = tuple[str, Callable[[Any], None]]


def operands(product: Product, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The two inputs of ``product`` in the layout its kind names (see :data:`floors.Kind`)."""
    m, k, n = product.m, product.k, product.n
    shapes = {
        "forward": ((m, k), (k, n)),
        "backward": ((m, k), (n, k)),
        "gradient": ((k, m), (k, n)),
        "update": ((k, m), (k, n)),
    }[product.kind]
    return tuple(rng.standard_normal(s, dtype=np.float32) * np.float32(1e-2) for s in shapes)


def product_kernel(kind: str, a, b, out, matmul, accumulate) -> Callable[[Any], None]:
    """``run(rows)`` for one product of ``kind`` (see :data:`floors.Kind`) into ``out``:
    ``matmul(x, y, out)`` for the three that write ``out``, ``accumulate(a, b, out)`` for SGD's,
    which adds into the weight ``out`` in place."""
    if kind == "update":
        return lambda rows: accumulate(a, b, out)
    x, y = {"forward": (a, b), "backward": (a, b.T), "gradient": (a.T, b)}[kind]
    return lambda rows: matmul(x, y, out)


def numpy_kernels(kernels: StepKernels, spec, hp: Mapping[str, Any]) -> list[Kernel]:
    """NumPy's: fancy indexing, its BLAS (scipy's ``sgemm`` for SGD's accumulating products,
    as the backend), the backend's numba Adam."""
    from scipy.linalg.blas import sgemm

    from mnistbench_numpy.adam import adam

    rng = np.random.default_rng(0)
    found: list[Kernel] = [("gather", lambda rows: (spec.x_train[rows], spec.y_train[rows]))]

    def accumulate(a, b, out):  # out.T (n, m) += -lr * b.T @ a, in place (mnistbench_numpy.updates)
        sgemm(-1e-3, b.T, a.T, beta=1.0, c=out.T, trans_b=True, overwrite_c=True)

    matmul = lambda x, y, out: np.matmul(x, y, out=out)  # noqa: E731
    for product in kernels.products:
        a, b = operands(product, rng)
        out = np.empty((product.m, product.n), np.float32)
        found.append((product.name, product_kernel(product.kind, a, b, out, matmul, accumulate)))
    for shape in kernels.adam:
        p, g, m, v = (np.zeros(shape, np.float32) for _ in range(4))
        g += rng.standard_normal(shape, dtype=np.float32) * np.float32(1e-3)
        steps = iter(range(1, 2**31))
        run = lambda rows, p=p, g=g, m=m, v=v, s=steps: adam(p, g, m, v, next(s), hp)  # noqa: E731
        found.append(("adam", run))
    return found


def torch_kernels(kernels: StepKernels, spec, hp: Mapping[str, Any]) -> list[Kernel]:
    """PyTorch's: ``index_select``, its BLAS (``mm`` into a buffer, ``addmm_`` for SGD), the
    backend's fused Adam."""
    import torch

    from mnistbench_torch.updates import adam_

    rng = np.random.default_rng(0)
    x_train, y_train = torch.from_numpy(spec.x_train), torch.from_numpy(spec.y_train)
    found: list[Kernel] = [
        ("gather", lambda rows: (x_train.index_select(0, rows), y_train.index_select(0, rows)))
    ]
    matmul = lambda x, y, out: torch.mm(x, y, out=out)  # noqa: E731
    accumulate = lambda a, b, out: out.addmm_(a.T, b, alpha=-1e-3)  # noqa: E731
    for product in kernels.products:
        a, b = (torch.from_numpy(t) for t in operands(product, rng))
        out = torch.empty(product.m, product.n)
        found.append((product.name, product_kernel(product.kind, a, b, out, matmul, accumulate)))
    for shape in kernels.adam:
        p, m, v = (torch.zeros(shape) for _ in range(3))
        g = torch.from_numpy(rng.standard_normal(shape, dtype=np.float32) * np.float32(1e-3))
        step = torch.zeros(())
        found.append(("adam", lambda rows, p=p, g=g, m=m, v=v, s=step: adam_(p, g, m, v, s, hp)))
    return found


def least_call(framework: str, calls: int = 200, blocks: int = 50) -> float:
    """Seconds of the framework's cheapest call: an in-place add of two one-element arrays, the
    best of ``blocks`` blocks of ``calls``."""
    if framework == "torch":
        import torch

        a, b = torch.zeros(1), torch.ones(1)
        call = a.add_
    else:
        a, b = np.zeros(1, np.float32), np.ones(1, np.float32)
        call = lambda b: np.add(a, b, out=a)  # noqa: E731
    best = float("inf")
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            call(b)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def time_kernels(kernels: list[Kernel], batches: list) -> dict[str, float]:
    """Seconds per step of each kernel: each batch runs them one after another, in the order a
    step does, so they meet the caches a step leaves."""
    total = np.zeros(len(kernels))
    for rows in batches:
        ticks = [time.perf_counter()]
        for _, run in kernels:
            run(rows)
            ticks.append(time.perf_counter())
        total += np.diff(ticks)
    return {name: seconds / len(batches) for (name, _), seconds in zip(kernels, total)}
