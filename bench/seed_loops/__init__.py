"""The seed notebooks' training loops, re-implemented for ``bench/speed.py`` to time beside the
backends.

Each module follows one notebook's training cell line by line, with the notebook's own dtypes,
temporaries and per-step bookkeeping, so its time is what that notebook spends training. They
differ from the notebooks only where the benchmark needs them to, and each docstring says where:
they read the core's :class:`~mnistbench.plugin.backend.TrainSpec` (the same images, sample order
and
initial weights the backends get, converted to the dtypes the notebook uses), progress, evaluation
and printing outside the training step are left out (the core does not time its own evaluation
either), and a seed bug is fixed only where it changes the cost (or stops the loop).

``prepare(spec)`` returns ``run_epoch(epoch) -> float``: one epoch of the variant's plan (the
same unit the backends' times are in), returning the loss of its first step as the notebook
computes it. ``LOOPS`` lists them per variant; ``framework`` says which backend each is the
baseline of (a backend without a loop of its own framework is compared with the first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mnistbench.plugin.backend import TrainSpec

from . import (
    lenet_idiomatic_torch,
    seed000_mnn_torch,
    seed001_dropout_numpy,
    seed003_sigmoid_numpy,
    seed004_mlp_numpy,
    seed004_mlp_torch,
)


@dataclass(frozen=True)
class SeedLoop:
    name: str  # as the table prints it, e.g. "seed 004 NumPy"
    framework: str  # "numpy" or "torch": the backend it is the baseline of
    prepare: Callable[[TrainSpec], Callable[[int], float]]


LOOPS: dict[str, list[SeedLoop]] = {
    "mlp": [
        SeedLoop("seed 004 NumPy", "numpy", seed004_mlp_numpy.prepare),
        SeedLoop("seed 004 PyTorch", "torch", seed004_mlp_torch.prepare),
    ],
    "sigmoid_mlp": [SeedLoop("seed 003 NumPy", "numpy", seed003_sigmoid_numpy.prepare)],
    "dropout_mlp": [SeedLoop("seed 001 NumPy", "numpy", seed001_dropout_numpy.prepare)],
    "mnn": [SeedLoop("seed 000 PyTorch", "torch", seed000_mnn_torch.prepare)],
    # No seed notebook: the loop a PyTorch user writes (nn.Sequential, DataLoader, optim).
    "lenet": [SeedLoop("idiomatic PyTorch", "torch", lenet_idiomatic_torch.prepare)],
}


def baseline(variant: str, backend: str) -> SeedLoop | None:
    """The seed loop a backend's time is divided by: the one of its framework, else the first."""
    loops = LOOPS.get(variant, [])
    return next((s for s in loops if s.framework == backend), loops[0] if loops else None)
