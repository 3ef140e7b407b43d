"""``mnn`` in PyTorch: the matrix neural network of seed 000, autograd and Adam.

See mnistbench.variants.mnn. The seed clamped with in-place writes into the state tensor that
autograd had saved for the previous tick's matmul, and wrote the bias to neuron 785 (the first
hidden one). Only ``A[:, FREE:]``, the columns into the free neurons, reaches the loss: it is
trained, as three parameters (``split``), and ``A[:, :FREE]`` comes back unchanged, as Adam would
leave it (its gradient is exactly zero). The clamped neurons (pixels, and the bias neuron 784 at
1) enter as ``x @ W_in + bias``, the same every tick, and each tick's free neurons are a new
tensor, so nothing autograd saved is written to. The arithmetic is the NumPy backend's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench.variants.mnn import BIAS, FREE, OUTPUTS, PIXELS
from mnistbench_torch.runtime import parameters, tensor, to_numpy
from mnistbench_torch.updates import adam_


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


def params(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """The trained parts of A, as trainable tensors on ``device``."""
    return parameters(split(np.asarray(weights["A"], dtype=np.float32)), device)


def weights(w: Mapping[str, torch.Tensor], weights: Mapping[str, np.ndarray]):
    """The whole matrix: ``weights["A"]`` with the trained parts of ``w`` written back."""
    return {"A": join(np.asarray(weights["A"], dtype=np.float32), to_numpy(w))}


def initial_state(w: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Adam's moments of each trained part, and its step count (kept on the host)."""
    state = {"step": torch.zeros((), dtype=torch.int64)}
    for name, p in w.items():
        state[f"{name}.exp_avg"] = torch.zeros_like(p, requires_grad=False)
        state[f"{name}.exp_avg_sq"] = torch.zeros_like(p, requires_grad=False)
    return state


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One Adam step: gradients by autograd through the ticks, then the update in place."""
    loss = F.cross_entropy(forward(w, x, int(hp["ticks"])), y)
    grads = torch.autograd.grad(loss, list(w.values()))
    state["step"] += 1
    step = int(state["step"])
    for (name, p), g in zip(w.items(), grads):
        adam_(p, g, state[f"{name}.exp_avg"], state[f"{name}.exp_avg_sq"], step, hp)
    return loss.detach()


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits, the last 10 neurons after the last tick), shape (N, 10)."""
    params = {k: tensor(v, device) for k, v in split(np.asarray(w["A"], np.float32)).items()}
    return forward(params, tensor(x, device), int(hp["ticks"])).cpu().numpy()
