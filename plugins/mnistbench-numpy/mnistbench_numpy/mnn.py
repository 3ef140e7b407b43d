"""``mnn`` in NumPy: the matrix neural network of seed 000, backpropagation through the ticks and
Adam written out by hand. See mnistbench.variants.mnn.

Only the 110 columns of ``A`` into the free neurons reach the loss (the clamp overwrites the
others every tick), so the arithmetic uses ``W = A[:, FREE:]`` (N, F) and ``A[:, :FREE]`` comes
back unchanged, as Adam leaves a parameter whose gradient is exactly zero. A tick's input is the
clamped part (pixels, and the bias neuron at 784; the seed wrote it to 785) next to the free
neurons, so ``clamp(s) @ W = x @ W[:784] + W[784] + free @ W[FREE:]``: the clamped part's
product, the "drive", is the same every tick and is computed once. Of the last tick, only the 10
output columns are computed: nothing else of it reaches the loss. Adam runs as one fused pass
(:func:`mnistbench_numpy.adam.adam`).
Float32 in training; ``loss_and_gradients`` keeps the dtype it is given, so a float64
finite-difference check works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.plugin.layouts import padded_free_columns, trained_matrix
from mnistbench.variants.mnn import (
    BIAS,
    FREE,
    OUTPUTS,
    PIXELS,
)
from mnistbench_numpy.adam import adam
from mnistbench_numpy.losses import softmax_cross_entropy


def forward(W: np.ndarray, x: np.ndarray, ticks: int):
    """Run ``ticks`` ticks from the zero state; the logits are ``relu(last)``.

    W: (N, F) = A[:, FREE:], x: (B, 784). A tick computes ``clamp(s) @ W``, which splits into the
    clamped neurons' part, the "drive", the same every tick, and the free neurons' part. Returns
    the pre-activation (B, F) of every tick but the last, ``pre``; the free state each later tick
    read, ``free_in`` (tick 0 read zeros); and the last tick's pre-activation of the 10 outputs,
    ``last`` (B, 10), the only neurons of the last tick that reach the logits.
    """
    drive = x @ W[:PIXELS]  # (B, F)
    drive += W[BIAS]  # the bias neuron (784) at 1
    pre, free_in = [], []
    for t in range(ticks - 1):  # every tick but the last, in full
        pre.append(drive if t == 0 else drive + free_in[-1] @ W[FREE:])  # (B, F)
        free_in.append(np.maximum(pre[-1], 0))
    last = drive[:, -OUTPUTS:]  # the last tick, the outputs' columns only
    if free_in:
        last = last + free_in[-1] @ W[FREE:, -OUTPUTS:]
    return pre, free_in, last


def free_loss_and_gradient(W: np.ndarray, x: np.ndarray, y: np.ndarray, ticks: int, out=None):
    """Mean cross-entropy of the logits against ``y``, and d loss / d W (N, F), written into
    ``out`` if given (every entry is written)."""
    pre, free_in, last = forward(W, x, ticks)
    # 1-2. softmax cross-entropy, and its gradient at the outputs' pre-activation (B, 10)
    loss, dz = softmax_cross_entropy(last, y, relu=True)  # of relu(last); dz through the ReLU
    dW = np.empty_like(W) if out is None else out
    d_drive = np.zeros((len(x), W.shape[1]), W.dtype)  # (B, F), summed over the ticks
    d_drive[:, -OUTPUTS:] = dz
    # 3. back through the ticks: an earlier tick gets gradient only through the free neurons it
    #    passed on; the clamped neurons are data, so their part sums over ticks into d_drive
    dW[FREE:] = 0
    if free_in:
        np.matmul(free_in[-1].T, dz, out=dW[FREE:, -OUTPUTS:])  # (F, 10)
        d_free = dz @ W[FREE:, -OUTPUTS:].T  # (B, F)
    for t in reversed(range(len(pre))):
        dz = d_free * (pre[t] > 0)  # (B, F)
        d_drive += dz
        if t > 0:  # tick 0 read the constant zero state: nothing flows further back
            dW[FREE:] += free_in[t - 1].T @ dz  # (F, F)
            d_free = dz @ W[FREE:].T  # (B, F)
    np.matmul(x.T, d_drive, out=dW[:PIXELS])  # (784, F)
    dW[BIAS] = d_drive.sum(axis=0)  # (F,)
    return loss, dW


def loss_and_gradients(w: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, hp):
    """Loss and ``{"A": dA}`` for the whole matrix; the columns into clamped neurons are zero."""
    A = w["A"]
    loss, dW = free_loss_and_gradient(A[:, FREE:], x, y, int(hp["ticks"]))
    dA = np.zeros_like(A)
    dA[:, FREE:] = dW
    return loss, {"A": dA}


def params(weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What the loop trains: W = A[:, FREE:] with its free neurons padded to a multiple of 16
    (:func:`~mnistbench.plugin.layouts.padded_free_columns`), and the buffer its step writes the
    gradient into, so no step allocates it."""
    W = padded_free_columns(weights["A"])
    return {"W": W, "g": np.empty_like(W)}


def weights(p: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray]):
    """``weights`` with A[:, FREE:] replaced by the trained W, its padding dropped."""
    return {"A": trained_matrix(weights["A"], p["W"])}


def initial_state(p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Adam's moments of W and its step count, as the checkpoint keeps them."""
    W = p["W"]
    return {"m": np.zeros_like(W), "v": np.zeros_like(W), "step": np.array(0, np.int64)}


def STEP(p, state, x, y, extras, hp) -> float:  # noqa: N802 - the name every variant exports
    """One Adam step on W = A[:, FREE:]; the loss before it."""
    loss, g = free_loss_and_gradient(p["W"], x, y, int(hp["ticks"]), out=p["g"])
    state["step"] += 1
    adam(p["W"], g, state["m"], state["v"], int(state["step"]), hp)
    return loss


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Class scores (logits, the last 10 neurons after the last tick), shape (N, 10)."""
    W = np.ascontiguousarray(w["A"][:, FREE:], dtype=np.float32)
    _, _, last = forward(W, np.asarray(x, np.float32), int(hp["ticks"]))
    return np.maximum(last, 0)
