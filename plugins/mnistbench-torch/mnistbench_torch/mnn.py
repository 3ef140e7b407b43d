"""``mnn`` in PyTorch: the matrix neural network of seed 000, its backward pass through the ticks
and Adam written out, as in the NumPy backend. See mnistbench.variants.mnn.

The seed clamped with in-place writes into the state tensor that autograd had saved for the
previous tick's matmul, and wrote the bias to neuron 785 (the first hidden one). Only the
columns of ``A`` into the free neurons (110 on MNIST) reach the loss (the clamp overwrites the
others every tick), so the arithmetic uses ``W = A[:, free:]`` (N, F) and ``A[:, :free]`` comes
back unchanged, as Adam leaves a parameter whose gradient is exactly zero. A tick's input is the
clamped part (the pixels, and the bias neuron after them at 1: 784 on MNIST) next to the free
neurons, so ``clamp(s) @ W = x @ W[:pixels] + W[pixels] + free @ W[free:]``; the clamped part's
product, the "drive", is the same every tick. Of the last tick, only the output columns are
computed: nothing else of it reaches the loss. Where the neurons sit follows the data
(:class:`mnistbench.variants.mnn.Layout`); the views a step uses (:func:`parts`) carry it.
Autograd through the ticks cost more than the arithmetic; Adam is PyTorch's fused kernel
(:mod:`mnistbench_torch.updates`), and its step count lives on the device, so on a GPU the whole
step is captured in a CUDA graph like any other variant's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mnistbench.plugin.layouts import padded_free_columns, trained_matrix
from mnistbench.variants.mnn import Layout, layout_of
from mnistbench_torch import runtime
from mnistbench_torch.runtime import tensor
from mnistbench_torch.updates import adam_


def forward(w: Mapping[str, torch.Tensor], x: torch.Tensor, ticks: int):
    """Every tick's pre-activation (B, F) but the last's, the free state each later tick read
    (tick 0 read zeros), and the last tick's pre-activation of the outputs (B, classes), the
    only neurons of the last tick that reach the logits; ``w``: W = A[:, free:] (N, F) and its
    parts (:func:`parts`), x (B, pixels)."""
    drive = torch.addmm(w["bias"], x, w["pixels"])  # (B, F): pixels, and the bias neuron at 1
    pre, free_in = [], []
    for t in range(ticks - 1):  # every tick but the last, in full
        pre.append(drive if t == 0 else torch.addmm(drive, free_in[-1], w["free"]))
        free_in.append(torch.relu(pre[-1]))
    last = drive[:, -w["free_out"].shape[1] :]  # the last tick, the outputs' columns only
    if free_in:
        last = torch.addmm(last, free_in[-1], w["free_out"])
    return pre, free_in, last


def parts(W: torch.Tensor, layout: Layout, prefix: str = "") -> dict[str, torch.Tensor]:
    """Views of the rows of W (N, F) the arithmetic uses, made once: each slice of a tensor
    costs a few microseconds, and a step would otherwise take a dozen. Their shapes carry the
    layout (pixels, classes) to every step."""
    return {
        f"{prefix}pixels": W[: layout.pixels],  # (pixels, F)
        f"{prefix}bias": W[layout.bias],  # (F,)
        f"{prefix}free": W[layout.free :],  # (F, F)
        f"{prefix}free_out": W[layout.free :, -layout.classes :],  # (F, classes), into the outputs
    }


def params(weights: Mapping[str, np.ndarray], device: str, spec) -> dict[str, torch.Tensor]:
    """The trained part of the weights on ``device``: W = A[:, free:] with its free neurons
    padded to a multiple of 16 (:func:`~mnistbench.plugin.layouts.padded_free_columns`), laid
    out for the run's data (``spec``: its input width and classes); the buffer each step writes
    its gradient into, g; and the views of both a step uses."""
    A = weights["A"]
    hp, pixels = spec.hyperparameters, spec.x_train.shape[1]
    layout = layout_of(len(A), pixels, hidden=hp["hidden"], classes=spec.classes)
    W = tensor(padded_free_columns(A, layout), device)
    g = torch.empty_like(W)
    return {"W": W, "g": g, **parts(W, layout), **parts(g, layout, "g_")}


def weights(w: Mapping[str, torch.Tensor], weights: Mapping[str, np.ndarray]):
    """The whole matrix: ``weights["A"]`` with A[:, free:] replaced by the trained W, its
    padding dropped."""
    A = weights["A"]
    layout = layout_of(len(A), w["pixels"].shape[0], classes=w["free_out"].shape[1])
    return {"A": trained_matrix(A, w["W"].cpu().numpy(), layout)}


def initial_state(w: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Adam's moments of W, and its step count (float32 on the device, as torch.optim keeps it)."""
    W = w["W"]
    return {
        "m": torch.zeros_like(W),
        "v": torch.zeros_like(W),
        "step": torch.zeros((), dtype=torch.float32, device=W.device),
    }


def targets(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """The training targets as one-hot rows, made once for the whole training set: the
    gradient at the logits is then softmax - y, with no per-step gather and scatter."""
    return runtime.one_hot(labels, classes)


def STEP(w, state, x: torch.Tensor, y: torch.Tensor, extras, hp) -> torch.Tensor:  # noqa: N802
    """One Adam step on W = A[:, free:] with one-hot targets ``y``; the mean cross-entropy
    before it."""
    W, g, n = w["W"], w["g"], x.shape[0]
    pre, free_in, last = forward(w, x, int(hp["ticks"]))
    # 1-2. softmax cross-entropy of the outputs after the last tick, and its gradient there
    log_p = torch.log_softmax(torch.relu(last), dim=1)  # (B, classes)
    loss = torch.vdot(log_p.view(-1), y.view(-1)).div_(-n)
    d_logits = log_p.exp_().sub_(y).div_(n)  # (softmax - onehot) / B
    dz = runtime.relu_backward(d_logits, last)  # (B, classes)
    # 3. back through the ticks: an earlier tick gets gradient only through the free neurons it
    #    passed on; the clamped neurons are data, so their part sums over ticks into d_drive
    d_drive = torch.zeros((x.shape[0], W.shape[1]), dtype=W.dtype, device=W.device)  # (B, F)
    d_drive[:, -dz.shape[1] :] = dz
    w["g_free"].zero_()
    if free_in:
        torch.mm(free_in[-1].T, dz, out=w["g_free_out"])  # (F, classes)
        d_free = dz @ w["free_out"].T  # (B, F)
    for t in reversed(range(len(pre))):
        dz = runtime.relu_backward(d_free, pre[t])  # (B, F)
        d_drive += dz
        if t > 0:  # tick 0 read the constant zero state: nothing flows further back
            w["g_free"].addmm_(free_in[t - 1].T, dz)  # (F, F)
            d_free = dz @ w["free"].T
    torch.mm(x.T, d_drive, out=w["g_pixels"])  # (pixels, F)
    torch.sum(d_drive, dim=0, out=w["g_bias"])
    # 4. Adam
    adam_(W, g, state["m"], state["v"], state["step"], hp)
    return loss


@torch.no_grad()
def predict(
    w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any], device: str
) -> np.ndarray:
    """Class scores (logits, the output neurons after the last tick), shape (N, classes)."""
    A = w["A"]
    layout = layout_of(len(A), x.shape[1], hidden=hp["hidden"])
    W = tensor(np.asarray(A, np.float32)[:, layout.free :], device)
    x = tensor(np.asarray(x, np.float32), device)
    _, _, last = forward(parts(W, layout), x, int(hp["ticks"]))
    return torch.relu(last).cpu().numpy()
