"""A variant's training steps captured in CUDA graphs, a run of them replayed per launch.

On a GPU a batch-8 step is microseconds of arithmetic behind tens of microseconds of kernel
launches, one per operation. Captured in a CUDA graph (``torch.cuda.CUDAGraph``), a run of
``STEPS_PER_REPLAY`` consecutive steps is launched with one call. A graph reads its batches from
static buffers, into which the host gathers the next run's rows before each replay, and writes what
each step returns (its loss) into a static output, which the host collects after it. An epoch is
then one launch per run of steps plus its gathers; its leftover full batches are one shorter
captured run, and a last, shorter batch runs eagerly. The graphs run the eager step's kernels, so a
captured run trains what the eager loop trains, to the bit.

A step can be captured when every number it computes on the host is the same at every step
(the learning rate, the batch size): in every variant's step, what changes from step to step
(``mnn``'s Adam step count and bias corrections) lives on the device. A run with
``MNISTBENCH_TORCH_CUDA_GRAPHS=0`` set runs eagerly.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import torch

from mnistbench.plugin.backend import TrainSpec
from mnistbench_torch import runtime

log = logging.getLogger(__name__)
WARM_UP_RUNS = 3  # eager runs of a graph's steps, on its stream, before capturing them
# Steps per graph: enough that a launch and the gathers before it cost a few percent of the
# steps' own kernels, few enough that capture stays quick (a graph holds each step's kernels).
STEPS_PER_REPLAY = 64


def wanted(spec: TrainSpec) -> bool:
    """Whether this run's steps are to be captured: on CUDA, unless switched off with
    ``MNISTBENCH_TORCH_CUDA_GRAPHS=0``."""
    return (
        spec.device.startswith("cuda")
        and os.environ.get("MNISTBENCH_TORCH_CUDA_GRAPHS", "1") != "0"
        and any(len(order) >= spec.batch_size for order in spec.epochs)
    )


@functools.cache
def capture_stream(device: torch.device) -> torch.cuda.Stream:
    """The one side stream every warm-up and capture on ``device`` runs on. cuBLAS keeps a
    workspace per stream, allocated at its first use there: a warm-up on the capture's own stream
    allocates it outside any graph. A fresh stream per capture would allocate it inside the
    graph's memory pool, and once that graph is freed, a later capture on the same recycled
    stream would run its matrix products on freed memory (CUBLAS_STATUS_EXECUTION_FAILED)."""
    return torch.cuda.Stream(device)


class CapturedSteps:
    """One run's steps as CUDA graphs of up to ``steps_per_replay`` steps over static buffers.

    With ``capture=False`` the same buffers and bookkeeping run eagerly.

    Built in the backend's untimed set-up. ``w`` and ``state`` are the tensors the eager loop
    trains; the graphs update them in place, and the warm-up runs needed before capture are
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
        steps_per_replay: int = STEPS_PER_REPLAY,
    ):
        self.module, self.step = module, module.STEP
        self.w, self.state, self.hp, self.spec = w, state, hp, spec
        self.x, self.y, device = x, y, x.device
        size = spec.batch_size
        full_batches = [len(order) // size for order in spec.epochs]
        self.group = max(1, min(steps_per_replay, max(full_batches)))
        rows = self.group * size
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
        self.returned: dict[int, torch.Tensor] = {}  # steps -> their stacked returns, static
        # A run of `group` steps, and one of each epoch's leftover full batches
        counts = {self.group} | {n % self.group for n in full_batches if n % self.group}
        longest = max(range(len(spec.epochs)), key=lambda e: len(spec.epochs[e]))
        self._load(*self._epoch_on_device(longest), 0, rows)  # real rows for the warm-up
        if capture:
            self.replays = self._capture(sorted(counts))
        else:  # the same work eagerly: the bookkeeping, testable without a GPU
            self.replays = {n: functools.partial(self._steps, n) for n in counts}

    def _steps(self, count: int) -> None:
        """The captured work: ``count`` steps on consecutive batches of the buffers, what each
        returns stacked into ``returned[count]``."""
        size, returned = self.spec.batch_size, []
        for rows in (slice(i * size, (i + 1) * size) for i in range(count)):
            extras = {name: value[rows] for name, value in self.extras.items()}
            returned.append(
                self.step(self.w, self.state, self.xs[rows], self.ys[rows], extras, self.hp)
            )
        if count in self.returned:
            torch.stack(returned, out=self.returned[count])
        else:  # the first run, before any capture, allocates the output
            self.returned[count] = torch.stack(returned)

    def _capture(self, counts: list[int]) -> dict[int, Callable[[], None]]:
        trained = {**self.w, **self.state}
        saved = {k: v.clone() for k, v in trained.items()}
        replays = {}
        try:
            side = capture_stream(self.x.device)
            for count in counts:
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(WARM_UP_RUNS):
                        self._steps(count)
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, stream=side):  # records the kernels; runs none
                    self._steps(count)
                replays[count] = graph.replay
        finally:  # the warm-up trained: back to the run's first weights and state
            with torch.no_grad():
                for key, value in trained.items():
                    value.copy_(saved[key])
        return replays

    def _epoch_on_device(self, epoch: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``epoch``'s visiting order and per-sample extras, on the device."""
        device = self.x.device
        order = torch.from_numpy(self.spec.epochs[epoch]).to(device)
        extras = {
            name: torch.from_numpy(per_epoch[epoch]).to(device)
            for name, per_epoch in self.spec.extras.items()
        }
        return order, extras

    def _load(self, order: torch.Tensor, extras: dict[str, torch.Tensor], start: int, n: int):
        """Gather the ``n`` visits from ``start`` of an epoch into the buffers' first rows."""
        visits = order[start : start + n]
        torch.index_select(self.x, 0, visits, out=self.xs[:n])
        torch.index_select(self.y, 0, visits, out=self.ys[:n])
        for name, value in extras.items():
            self.extras[name][:n].copy_(value[start : start + n])

    def train_epoch(self, epoch: int) -> torch.Tensor:
        """Train one epoch; its step losses, on the device."""
        order, extras = self._epoch_on_device(epoch)
        size = self.spec.batch_size
        full, rest = divmod(len(order), size)
        returned = []
        for first in range(0, full, self.group):
            count = min(self.group, full - first)
            self._load(order, extras, first * size, count * size)
            self.replays[count]()
            returned.append(self.returned[count].clone())
        losses = [runtime.step_losses(self.module, torch.cat(returned))] if full else []
        if rest:  # the shorter last batch, eagerly, from the same buffers
            self._load(order, extras, full * size, rest)
            tail = {name: value[:rest] for name, value in self.extras.items()}
            returned = self.step(self.w, self.state, self.xs[:rest], self.ys[:rest], tail, self.hp)
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
