"""``mnn`` in NumPy: the matrix neural network of seed 000, backpropagation through the ticks and
Adam written out by hand. See mnistbench.variants.mnn.

Only the columns of ``A`` into the free neurons (110 on MNIST) reach the loss (the clamp
overwrites the others every tick), so the arithmetic uses ``W = A[:, free:]`` (N, F) and
``A[:, :free]`` comes back unchanged, as Adam leaves a parameter whose gradient is exactly zero.
A tick's input is the clamped part (the pixels, and the bias neuron right after them: 784 on
MNIST; the seed wrote it to 785) next to the free neurons, so ``clamp(s) @ W = x @ W[:pixels] +
W[pixels] + free @ W[free:]``: the clamped part's product, the "drive", is the same every tick
and is computed once. Of the last tick, only the output columns are computed: nothing else of it
reaches the loss. Where the neurons sit follows the data (:class:`mnistbench.variants.mnn.Layout`):
the views a step uses (:func:`parts`) carry it. Adam runs as one fused pass
(:func:`mnistbench_numpy.adam.adam`).
Float32 in training; ``loss_and_gradients`` keeps the dtype it is given, so a float64
finite-difference check works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from mnistbench.plugin.layouts import padded_free_columns, trained_matrix
from mnistbench.variants.mnn import Layout, layout_of
from mnistbench_numpy.adam import adam
from mnistbench_numpy.losses import softmax_cross_entropy


def parts(W: np.ndarray, layout: Layout, prefix: str = "") -> dict[str, np.ndarray]:
    """Views of the rows of W (N, F) the arithmetic uses, by the neurons they come from, named
    with ``prefix``: made once, their shapes carry the layout (pixels, classes) to every step."""
    return {
        f"{prefix}pixels": W[: layout.pixels],  # (pixels, F)
        f"{prefix}bias": W[layout.bias],  # (F,)
        f"{prefix}free": W[layout.free :],  # (F, F)
        f"{prefix}free_out": W[layout.free :, -layout.classes :],  # (F, classes), into the outputs
    }


def forward(w: Mapping[str, np.ndarray], x: np.ndarray, ticks: int):
    """Run ``ticks`` ticks from the zero state; the logits are ``relu(last)``.

    w: the parts of W = A[:, free:] (N, F) (:func:`parts`), x: (B, pixels). A tick computes
    ``clamp(s) @ W``, which splits into the clamped neurons' part, the "drive", the same every
    tick, and the free neurons' part. Returns the pre-activation (B, F) of every tick but the
    last, ``pre``; the free state each later tick read, ``free_in`` (tick 0 read zeros); and the
    last tick's pre-activation of the outputs, ``last`` (B, classes), the only neurons of the
    last tick that reach the logits.
    """
    drive = x @ w["pixels"]  # (B, F)
    drive += w["bias"]  # the bias neuron at 1
    pre, free_in = [], []
    for t in range(ticks - 1):  # every tick but the last, in full
        pre.append(drive if t == 0 else drive + free_in[-1] @ w["free"])  # (B, F)
        free_in.append(np.maximum(pre[-1], 0))
    last = drive[:, -w["free_out"].shape[1] :]  # the last tick, the outputs' columns only
    if free_in:
        last = last + free_in[-1] @ w["free_out"]
    return pre, free_in, last


def free_loss_and_gradient(w, x: np.ndarray, y: np.ndarray, ticks: int) -> float:
    """Mean cross-entropy of the logits against ``y``; d loss / d W (N, F) written into a buffer
    shaped as W, through its parts ``w["g_..."]`` (:func:`parts`; every entry is written)."""
    pre, free_in, last = forward(w, x, ticks)
    # 1-2. softmax cross-entropy, and its gradient at the outputs' pre-activation (B, classes)
    loss, dz = softmax_cross_entropy(last, y, relu=True)  # of relu(last); dz through the ReLU
    d_drive = np.zeros((len(x), w["free"].shape[1]), w["free"].dtype)  # (B, F), over the ticks
    d_drive[:, -dz.shape[1] :] = dz
    # 3. back through the ticks: an earlier tick gets gradient only through the free neurons it
    #    passed on; the clamped neurons are data, so their part sums over ticks into d_drive
    w["g_free"][...] = 0
    if free_in:
        np.matmul(free_in[-1].T, dz, out=w["g_free_out"])  # (F, classes)
        d_free = dz @ w["free_out"].T  # (B, F)
    for t in reversed(range(len(pre))):
        dz = d_free * (pre[t] > 0)  # (B, F)
        d_drive += dz
        if t > 0:  # tick 0 read the constant zero state: nothing flows further back
            w["g_free"] += free_in[t - 1].T @ dz  # (F, F)
            d_free = dz @ w["free"].T  # (B, F)
    np.matmul(x.T, d_drive, out=w["g_pixels"])  # (pixels, F)
    w["g_bias"][...] = d_drive.sum(axis=0)  # (F,)
    return loss


def loss_and_gradients(w: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, hp):
    """Loss and ``{"A": dA}`` for the whole matrix; the columns into clamped neurons are zero."""
    A = w["A"]
    layout = layout_of(len(A), x.shape[1], hidden=hp["hidden"])
    W = A[:, layout.free :]
    dW = np.empty_like(W)
    loss = free_loss_and_gradient(
        {**parts(W, layout), **parts(dW, layout, "g_")}, x, y, int(hp["ticks"])
    )
    dA = np.zeros_like(A)
    dA[:, layout.free :] = dW
    return loss, {"A": dA}


def params(weights: Mapping[str, np.ndarray], spec) -> dict[str, np.ndarray]:
    """What the loop trains: W = A[:, free:] with its free neurons padded to a multiple of 16
    (:func:`~mnistbench.plugin.layouts.padded_free_columns`), laid out for the run's data
    (``spec``: its input width and classes); the buffer its step writes the gradient into, so
    no step allocates it; and the views of both a step uses."""
    A = weights["A"]
    hp, pixels = spec.hyperparameters, spec.x_train.shape[1]
    layout = layout_of(len(A), pixels, hidden=hp["hidden"], classes=spec.classes)
    W = padded_free_columns(A, layout)
    g = np.empty_like(W)
    return {"W": W, "g": g, **parts(W, layout), **parts(g, layout, "g_")}


def weights(p: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray]):
    """``weights`` with A[:, free:] replaced by the trained W, its padding dropped."""
    A = weights["A"]
    layout = layout_of(len(A), p["pixels"].shape[0], classes=p["free_out"].shape[1])
    return {"A": trained_matrix(A, p["W"], layout)}


def initial_state(p: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Adam's moments of W and its step count, as the checkpoint keeps them."""
    W = p["W"]
    return {"m": np.zeros_like(W), "v": np.zeros_like(W), "step": np.array(0, np.int64)}


def STEP(p, state, x, y, extras, hp) -> float:  # noqa: N802 - the name every variant exports
    """One Adam step on W = A[:, free:]; the loss before it."""
    loss = free_loss_and_gradient(p, x, y, int(hp["ticks"]))
    state["step"] += 1
    adam(p["W"], p["g"], state["m"], state["v"], int(state["step"]), hp)
    return loss


def predict(w: Mapping[str, np.ndarray], x: np.ndarray, hp: Mapping[str, Any]) -> np.ndarray:
    """Class scores (logits, the output neurons after the last tick), shape (N, classes)."""
    A = w["A"]
    layout = layout_of(len(A), x.shape[1], hidden=hp["hidden"])
    W = np.ascontiguousarray(A[:, layout.free :], dtype=np.float32)
    _, _, last = forward(parts(W, layout), np.asarray(x, np.float32), int(hp["ticks"]))
    return np.maximum(last, 0)
