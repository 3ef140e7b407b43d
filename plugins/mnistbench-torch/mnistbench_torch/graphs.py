"""A variant's training step captured once in a CUDA graph and replayed for every full batch.

On a GPU a batch-8 step is microseconds of arithmetic behind tens of microseconds of kernel
launches, one per operation. Captured in a CUDA graph (``torch.cuda.CUDAGraph``), the whole step is
launched with one call. The graph does everything a step of the eager loop does, and nothing the
host has to tell it each time: it reads its batch from the epoch's gathered rows at an offset it
advances itself (a step counter on the device) and writes what the step returns (its loss) into the
epoch's buffer at that step, so an epoch is one gather, then ``replay()`` once per full batch; a
last, shorter batch runs eagerly. The step's kernels are the eager step's, so a captured run trains
what the eager loop trains, to the bit.

A step can be captured when every number it computes on the host is the same at every step
(the learning rate, the batch size): in every variant's step, what changes from step to step
(``mnn``'s Adam step count and bias corrections) lives on the device. A run with
``MNISTBENCH_TORCH_CUDA_GRAPHS=0`` set runs eagerly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import torch

from mnistbench.backend import TrainSpec
from mnistbench_torch import runtime

log = logging.getLogger(__name__)
WARM_UP_STEPS = 3  # eager steps on a side stream before capture, as torch.cuda.graphs asks


def wanted(spec: TrainSpec) -> bool:
    """Whether this run's steps are to be captured: on CUDA, unless switched off with
    ``MNISTBENCH_TORCH_CUDA_GRAPHS=0``."""
    return (
        spec.device.startswith("cuda")
        and os.environ.get("MNISTBENCH_TORCH_CUDA_GRAPHS", "1") != "0"
        and any(len(order) >= spec.batch_size for order in spec.epochs)
    )


class CapturedSteps:
    """One run's step as a CUDA graph over static buffers that hold the current epoch.

    With ``capture=False`` the same buffers and bookkeeping run eagerly, step by step.

    Built in the backend's untimed set-up. ``w`` and ``state`` are the tensors the eager loop
    trains; the graph updates them in place, and the warm-up steps needed before capture are
    undone, so the run starts from exactly the weights and state it was given.
    """

    def __init__(
        self,
        module: Any,
        w: dict[str, torch.Tensor],
        state: dict[str, torch.Tensor],
        hp: Mapping[str, Any],
        spec: TrainSpec,
        x: torch.Tensor,
        y: torch.Tensor,
        capture: bool = True,
    ):
        self.module, self.step = module, module.STEP
        self.w, self.state, self.hp, self.spec = w, state, hp, spec
        self.x, self.y, device = x, y, x.device
        rows = max(len(order) for order in spec.epochs)
        full_batches = max(len(order) // spec.batch_size for order in spec.epochs)
        self.xs = torch.empty((rows, *x.shape[1:]), dtype=x.dtype, device=device)
        self.ys = torch.empty((rows, *y.shape[1:]), dtype=y.dtype, device=device)
        self.extras = {
            name: torch.zeros(
                (rows, *per_epoch[0].shape[1:]),
                dtype=torch.from_numpy(per_epoch[0][:0]).dtype,
                device=device,
            )
            for name, per_epoch in spec.extras.items()
        }
        self.returned: torch.Tensor | None = None  # (full_batches, ...), shaped by the first step
        self.positions = torch.arange(full_batches, device=device)
        self.cursor = torch.zeros((), dtype=torch.int64, device=device)  # the next step's number
        self.batch_rows = torch.arange(spec.batch_size, device=device)
        self._load(0)  # real rows for the warm-up, whose updates are undone
        # capture=False replays the same work eagerly: the bookkeeping, testable without a GPU
        self.replay = self._capture().replay if capture else self._one_step

    def _one_step(self) -> None:
        """The captured work: the batch at the cursor, the variant's step, what it returns
        recorded at its step."""
        index = self.batch_rows + self.cursor * self.spec.batch_size
        x, y = self.xs.index_select(0, index), self.ys.index_select(0, index)
        extras = {name: value.index_select(0, index) for name, value in self.extras.items()}
        returned = self.step(self.w, self.state, x, y, extras, self.hp)
        if self.returned is None:  # the first step, before any capture, allocates the buffer
            self.returned = returned.new_zeros((len(self.positions), *returned.shape))
        at = (self.positions == self.cursor).view(-1, *[1] * returned.dim())
        # where(), not a product with a one-hot mask: a NaN loss must not spread to other steps
        self.returned.copy_(torch.where(at, returned, self.returned))
        self.cursor.add_(1)

    def _capture(self) -> torch.cuda.CUDAGraph:
        trained = {**self.w, **self.state}
        saved = {k: v.clone() for k, v in trained.items()}
        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(WARM_UP_STEPS):
                    self._one_step()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):  # records the kernels; runs none of them
                self._one_step()
        finally:  # the warm-up trained: back to the run's first weights and state
            with torch.no_grad():
                for key, value in trained.items():
                    value.copy_(saved[key])
        return graph

    def _load(self, epoch: int) -> int:
        """Gather ``epoch``'s rows, in visiting order, into the graph's buffers; their count."""
        index = torch.from_numpy(self.spec.epochs[epoch]).to(self.x.device)
        n = len(index)
        torch.index_select(self.x, 0, index, out=self.xs[:n])
        torch.index_select(self.y, 0, index, out=self.ys[:n])
        for name, per_epoch in self.spec.extras.items():
            self.extras[name][:n].copy_(torch.from_numpy(per_epoch[epoch]))
        return n

    def train_epoch(self, epoch: int) -> torch.Tensor:
        """Train one epoch; its step losses, on the device."""
        n, size = self._load(epoch), self.spec.batch_size
        full, rest = divmod(n, size)
        self.cursor.zero_()
        for _ in range(full):
            self.replay()
        losses = [runtime.step_losses(self.module, self.returned[:full])] if full else []
        if rest:  # the shorter last batch, eagerly, from the same buffers
            tail = slice(full * size, n)
            extras = {name: value[tail] for name, value in self.extras.items()}
            returned = self.step(self.w, self.state, self.xs[tail], self.ys[tail], extras, self.hp)
            losses.append(runtime.step_losses(self.module, returned[None]))
        return torch.cat(losses)


def capture(spec: TrainSpec, module: Any, w, state, hp, x, y) -> CapturedSteps | None:
    """The run's captured steps, or None where they are not wanted or capture fails (then the
    eager loop trains, and the log says why)."""
    if not wanted(spec):
        return None
    try:
        return CapturedSteps(module, w, state, hp, spec, x, y)
    except RuntimeError as error:  # an operation that cannot be captured: train eagerly
        log.warning("CUDA graph capture of %s failed, training eagerly: %s", spec.variant, error)
        return None
