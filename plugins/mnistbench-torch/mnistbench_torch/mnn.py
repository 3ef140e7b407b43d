"""``mnn`` in PyTorch: the matrix neural network of seed 000, autograd and torch.optim.Adam.

See mnistbench.variants.mnn. The seed clamped with in-place writes into the state tensor that
autograd had saved for the previous tick's matmul, and wrote the bias to neuron 785 (the first
hidden one). Only ``A[:, FREE:]``, the columns into the free neurons, reaches the loss: it is
trained, as three parameters (``split``), and ``A[:, :FREE]`` comes back unchanged, as Adam would
leave it (its gradient is exactly zero). The clamped neurons (pixels, and the bias neuron 784 at
1) enter as ``x @ W_in + bias``, the same every tick, and each tick's free neurons are a new
tensor, so nothing autograd saved is written to. The arithmetic is the NumPy backend's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench.backend import EpochResult, TrainSpec
from mnistbench.variants.mnn import BIAS, FREE, OUTPUTS, PIXELS
from mnistbench_torch.runtime import (
    load_optimizer_state,
    optimizer_state,
    parameters,
    tensor,
    to_numpy,
)


def split(A: np.ndarray) -> dict[str, np.ndarray]:
    """The parts of A (N, N) that reach the loss: its columns into the free neurons, by source.

    Three separate tensors rather than slices of one, so autograd does not zero-fill an (N, F)
    gradient for each slice on every step.
    """
    return {
        "W_in": A[:PIXELS, FREE:],  # (784, F), pixels -> free neurons
        "bias": A[BIAS, FREE:],  # (F,), the bias neuron (784, always 1) -> free neurons
        "W_free": A[FREE:, FREE:],  # (F, F), free -> free neurons
    }


def join(A: np.ndarray, parts: Mapping[str, np.ndarray]) -> np.ndarray:
    """A copy of A with ``parts`` written back where ``split`` took them; the rest unchanged."""
    A = A.copy()
    for name, view in split(A).items():  # views into the copy
        view[...] = parts[name]
    return A


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor, ticks: int) -> torch.Tensor:
    """Logits (B, 10) for inputs ``x`` (B, 784).

    A tick is ``relu(clamp(s) @ A[:, FREE:])``, and that product splits into the clamped neurons'
    part, ``x @ W_in + bias``, the same every tick, and ``free @ W_free``; each tick makes a new
    tensor.
    """
    drive = x @ w["W_in"] + w["bias"]  # (B, F)
    free = torch.relu(drive)  # tick 0: the free neurons were still zero
    for _ in range(ticks - 1):
        free = torch.relu(drive + free @ w["W_free"])  # (B, F)
    return free[:, -OUTPUTS:]


def train(spec: TrainSpec) -> Iterator[EpochResult]:
    """Yield the step losses and the whole matrix after each epoch; losses stay on the device."""
    hp = spec.hyperparameters
    A = np.asarray(spec.initial_weights["A"], dtype=np.float32)
    w = parameters(split(A), spec.device)
    optimizer = torch.optim.Adam(
        w.values(), lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"]
    )
    load_optimizer_state(optimizer, w, spec.initial_state, spec.device)  # resuming: moments, step
    x, y = tensor(spec.x_train, spec.device), tensor(spec.y_train, spec.device)
    ticks = int(hp["ticks"])
    return _epochs(spec, A, w, optimizer, x, y, ticks)  # set up now, before epochs are timed


def _epochs(spec, A, w, optimizer, x, y, ticks: int) -> Iterator[EpochResult]:
    for epoch in range(spec.start_epoch, len(spec.epochs)):
        order = spec.epochs[epoch]
        # One gather per epoch; each batch is then a slice (a view), not a gather kernel per step.
        index = tensor(order, spec.device)
        xs, ys = x[index], y[index]
        losses = torch.empty(spec.steps_in_epoch(epoch), device=spec.device)
        for step, start in enumerate(range(0, len(order), spec.batch_size)):
            rows = slice(start, start + spec.batch_size)
            loss = F.cross_entropy(forward(w, xs[rows], ticks), ys[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
        weights = {"A": join(A, to_numpy(w))}
        yield EpochResult(losses.cpu().double().numpy(), weights, optimizer_state(optimizer, w))


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits, the last 10 neurons after the last tick), shape (N, 10)."""
    params = {k: tensor(v, device) for k, v in split(np.asarray(w["A"], np.float32)).items()}
    return forward(params, tensor(x, device), int(hp["ticks"])).cpu().numpy()
