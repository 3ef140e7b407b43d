"""``mnn`` in JAX: the matrix neural network of seed 000, Adam. See mnistbench.variants.mnn.

Only the columns of ``A`` into the free neurons (``W = A[:, FREE:]``, (N, F)) reach the loss: the
clamp overwrites the others every tick. The loop trains ``W`` alone (:func:`params`), its free
neurons padded with zeros to a multiple of 16 (matrix products 112 wide run faster than 110;
:func:`mnistbench.plugin.layouts.padded_layout`), and writes it back into ``A`` after each
epoch (:func:`weights`); ``A[:, :FREE]`` comes back unchanged, as Adam leaves a parameter whose
gradient is exactly zero.

``W`` is trained as its three parts, the rows of the pixels (784, F), of the bias neuron (F,) and
of the free neurons (F, F): each is a leaf of its own, so each gradient is its own product and
Adam updates each where it lies. As one (N, F) array, XLA copies ``W`` at every step to slice
the parts out of it, and pads each part's gradient back to (N, F) before summing them, which
made a step about twice its kernels' time (bench/floor.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mnistbench.plugin.layouts import padded_layout
from mnistbench.variants.mnn import BIAS, FREE, OUTPUTS, PIXELS
from mnistbench_jax.optimizers import adam, adam_state


def parts(W) -> dict:
    """The rows of ``W`` (N, F) by the neurons they come from."""
    return {"pixels": W[:PIXELS], "bias": W[BIAS], "free": W[FREE:]}


def logits(p, x, ticks: int):
    """The last 10 neurons after ``ticks`` ticks of s = relu(clamp(s) @ A), (B, 10).

    The clamped neurons' part of each tick, ``x @ W[:784] + W[784]``, is the same every tick.
    """
    drive = x @ p["pixels"] + p["bias"]  # (B, F)
    free = jax.nn.relu(drive)  # tick 0 read zeros in the free neurons
    for _ in range(ticks - 1):
        free = jax.nn.relu(drive + free @ p["free"])  # (B, F)
    return free[:, -OUTPUTS:]


def predict(w, x, hp):
    """Class scores: the output neurons after the last tick, (N, 10)."""
    return logits(parts(w["A"][:, FREE:]), x, int(hp["ticks"]))


def free_loss(p, x, y, hp):
    """Mean softmax cross-entropy of the logits against ``y``."""
    z = logits(p, x, int(hp["ticks"]))
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], 1)[:, 0])


def params(weights):
    """The trained part of the weights, W = A[:, FREE:] padded, made on A's device, in parts."""
    A = weights["A"]
    shape, rows, columns = padded_layout(A.shape[1] - FREE)
    W = jnp.zeros(shape, A.dtype, device=A.sharding).at[jnp.ix_(rows, columns)].set(A[:, FREE:])
    return parts(W)


def weights(p, weights):
    """``weights`` with A[:, FREE:] replaced by the trained parts, their padding dropped."""
    A = weights["A"]
    _, rows, columns = padded_layout(A.shape[1] - FREE)
    W = jnp.concatenate([p["pixels"], p["bias"][None], p["free"]])
    return {"A": A.at[:, FREE:].set(W[jnp.ix_(rows, columns)])}


def STEP(p, state, x, y, extras, hp):  # noqa: N802 - the name every variant module exports
    """One Adam step on the parts of W = A[:, FREE:]."""
    value, grad = jax.value_and_grad(free_loss)(p, x, y, hp)
    p, state = adam(p, grad, state, hp)
    return p, state, value


def initial_state(p):
    return adam_state(p)
