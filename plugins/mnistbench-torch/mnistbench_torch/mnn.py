"""``mnn`` in PyTorch: the matrix neural network of seed 000, its backward pass through the ticks
and Adam written out, as in the NumPy backend. See mnistbench.variants.mnn.

The seed clamped with in-place writes into the state tensor that autograd had saved for the
previous tick's matmul, and wrote the bias to neuron 785 (the first hidden one). Only the 110
columns of ``A`` into the free neurons reach the loss (the clamp overwrites the others every
tick), so the arithmetic uses ``W = A[:, FREE:]`` (N, F) and ``A[:, :FREE]`` comes back
unchanged, as Adam leaves a parameter whose gradient is exactly zero. A tick's input is the
clamped part (pixels, and the bias neuron 784 at 1) next to the free neurons, so
``clamp(s) @ W = x @ W[:784] + W[784] + free @ W[FREE:]``; the clamped part's product, the
"drive", is the same every tick. Autograd through the ticks cost more than the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mnistbench.variants.mnn import BIAS, FREE, OUTPUTS, PIXELS
from mnistbench_torch.runtime import tensor
from mnistbench_torch.updates import adam_

# Adam's bias correction is computed on the host from the step count, so a CUDA graph captured
# at one step would replay that step's correction: mnn's steps run eagerly on a GPU.
CAPTURABLE = False


def forward(W: torch.Tensor, x: torch.Tensor, ticks: int):
    """Each tick's pre-activation (B, F) and the free state it read (none for tick 0, which
    read zeros), for W = A[:, FREE:] (N, F) and inputs ``x`` (B, 784)."""
    drive = torch.addmm(W[BIAS], x, W[:PIXELS])  # (B, F): pixels, and the bias neuron at 1
    pre, free_in = [drive], []
    for _ in range(ticks - 1):
        free = torch.relu(pre[-1])  # (B, F)
        free_in.append(free)
        pre.append(torch.addmm(drive, free, W[FREE:]))  # (B, F)
    return pre, free_in


def params(weights: Mapping[str, np.ndarray], device: str) -> dict[str, torch.Tensor]:
    """The trained part of the weights: W = A[:, FREE:] (N, F), contiguous, on ``device``."""
    return {"W": tensor(np.asarray(weights["A"], np.float32)[:, FREE:], device)}


def weights(w: Mapping[str, torch.Tensor], weights: Mapping[str, np.ndarray]):
    """The whole matrix: ``weights["A"]`` with A[:, FREE:] replaced by the trained W."""
    A = np.array(weights["A"], dtype=np.float32)
    A[:, FREE:] = w["W"].cpu().numpy()
    return {"A": A}


def initial_state(w: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Adam's moments of W, and its step count (kept on the host)."""
    W = w["W"]
    return {
        "m": torch.zeros_like(W),
        "v": torch.zeros_like(W),
        "step": torch.zeros((), dtype=torch.int64),
    }


@torch.no_grad()
def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One Adam step on W = A[:, FREE:]; the mean cross-entropy before it."""
    W, ticks = w["W"], int(hp["ticks"])
    pre, free_in = forward(W, x, ticks)
    # 1-2. softmax cross-entropy of the output neurons after the last tick, and its gradient
    log_p = torch.log_softmax(torch.relu(pre[-1][:, -OUTPUTS:]), dim=1)  # (B, 10)
    loss = F.nll_loss(log_p, y)
    d_free = torch.zeros_like(pre[-1])  # (B, F), d loss / d (free neurons after the tick)
    d_free[:, -OUTPUTS:] = log_p.exp_().sub_(F.one_hot(y, 10)).div_(len(x))
    # 3. back through the ticks: an earlier tick gets gradient only through the free neurons it
    #    passed on; the clamped neurons are data, so their part sums over ticks into d_drive
    g = torch.zeros_like(W)  # (N, F)
    d_drive = torch.zeros_like(d_free)
    for t in reversed(range(ticks)):
        dz = d_free * (pre[t] > 0)  # (B, F), ReLU passes gradient where it was active
        d_drive += dz
        if t > 0:  # tick 0 read the constant zero state: nothing flows further back
            g[FREE:].addmm_(free_in[t - 1].T, dz)  # (F, F)
            d_free = dz @ W[FREE:].T
    torch.mm(x.T, d_drive, out=g[:PIXELS])  # (784, F)
    g[BIAS] = d_drive.sum(dim=0)
    # 4. Adam
    state["step"] += 1
    adam_(W, g, state["m"], state["v"], int(state["step"]), hp)
    return loss


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits, the last 10 neurons after the last tick), shape (N, 10)."""
    W = tensor(np.asarray(w["A"], np.float32)[:, FREE:], device)
    pre, _ = forward(W, tensor(np.asarray(x, np.float32), device), int(hp["ticks"]))
    return torch.relu(pre[-1][:, -OUTPUTS:]).cpu().numpy()
