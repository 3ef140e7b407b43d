"""``mnn`` in PyTorch: the matrix neural network of seed 000, autograd and torch.optim.Adam.

See mnistbench.variants.mnn. The seed clamped with in-place writes into the state tensor that
autograd had saved for the previous tick's matmul, and wrote the bias to neuron 785 (the first
hidden one). Here the clamped neurons (pixels, and the bias neuron 784 at 1) enter as the product
``x @ A[:784] + A[784]``, the same every tick, and each tick's free neurons are a new tensor, so
nothing autograd saved is written to. Only ``A[:, FREE:]``, the columns into the free neurons,
reaches the loss; it is the parameter, and ``A[:, :FREE]`` comes back unchanged, as Adam would
leave it (its gradient is exactly zero). The arithmetic is the NumPy backend's, step for step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench.backend import EpochResult, TrainSpec
from mnistbench.variants.mnn import BIAS, FREE, OUTPUTS, PIXELS
from mnistbench_torch.runtime import parameters, tensor


def forward(W: torch.Tensor, x: torch.Tensor, ticks: int) -> torch.Tensor:
    """Logits (B, 10) for inputs ``x`` (B, 784); W (N, F) = A[:, FREE:].

    A tick is ``relu(clamp(s) @ W)``, and ``clamp(s) @ W = x @ W[:784] + W[784] + free @ W[FREE:]``:
    the clamped neurons' part is the same every tick; each tick makes a new tensor.
    """
    drive = x @ W[:PIXELS] + W[BIAS]  # (B, F): pixels, and the bias neuron (784) at 1
    free = torch.relu(drive)  # tick 0: the free neurons were still zero
    for _ in range(ticks - 1):
        free = torch.relu(drive + free @ W[FREE:])  # (B, F)
    return free[:, -OUTPUTS:]


def train(spec: TrainSpec) -> Iterator[EpochResult]:
    """Yield the step losses and the whole matrix after each epoch; losses stay on the device."""
    hp = spec.hyperparameters
    A = np.asarray(spec.initial_weights["A"], dtype=np.float32)
    w = parameters({"W": A[:, FREE:]}, spec.device)  # (N, F), the trained part
    optimizer = torch.optim.Adam(
        w.values(), lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"]
    )
    x, y = tensor(spec.x_train, spec.device), tensor(spec.y_train, spec.device)
    ticks = int(hp["ticks"])
    for epoch, order in enumerate(spec.epochs):
        # One gather per epoch; each batch is then a slice (a view), not a gather kernel per step.
        index = tensor(order, spec.device)
        xs, ys = x[index], y[index]
        losses = torch.empty(spec.steps_in_epoch(epoch), device=spec.device)
        for step, start in enumerate(range(0, len(order), spec.batch_size)):
            rows = slice(start, start + spec.batch_size)
            loss = F.cross_entropy(forward(w["W"], xs[rows], ticks), ys[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
        weights = A.copy()
        weights[:, FREE:] = w["W"].detach().cpu().numpy()
        yield EpochResult(losses.cpu().double().numpy(), {"A": weights})


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits, the last 10 neurons after the last tick), shape (N, 10)."""
    W = tensor(np.asarray(w["A"], np.float32)[:, FREE:], device)
    return forward(W, tensor(x, device), int(hp["ticks"])).cpu().numpy()
