"""``mnn`` in JAX: the matrix neural network of seed 000, Adam. See mnistbench.variants.mnn.

Only the columns of ``A`` into the free neurons (``W = A[:, free:]``, (N, F)) reach the loss: the
clamp overwrites the others every tick. The loop trains ``W`` alone (:func:`params`), its free
neurons padded with zeros to a multiple of 16 (matrix products 112 wide run faster than 110;
:func:`mnistbench.plugin.layouts.padded_layout`), and writes it back into ``A`` after each
epoch (:func:`weights`); ``A[:, :free]`` comes back unchanged, as Adam leaves a parameter whose
gradient is exactly zero. Where the neurons sit follows the data
(:class:`mnistbench.variants.mnn.Layout`), kept beside the parts as static data (:class:`Parts`).

``W`` is trained as its three parts, the rows of the pixels (pixels, F), of the bias neuron (F,)
and of the free neurons (F, F): each is a leaf of its own, so each gradient is its own product and
Adam updates each where it lies. As one (N, F) array, XLA copies ``W`` at every step to slice
the parts out of it, and pads each part's gradient back to (N, F) before summing them, which
made a step about twice its kernels' time (bench/floor.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp

from mnistbench.plugin.layouts import padded_layout
from mnistbench.variants.mnn import Layout, layout_of
from mnistbench_jax.optimizers import adam, adam_state


@partial(
    jax.tree_util.register_dataclass,
    data_fields=["bias", "free", "pixels"],  # a dict's order: the compiled step as it was
    meta_fields=["layout"],
)
@dataclass(frozen=True)
class Parts:
    """The rows of ``W`` (N, F) by the neurons they come from, each a leaf of its own, and
    where those neurons sit in ``A``: static, so a compiled step knows its shapes."""

    pixels: jax.Array  # (pixels, F)
    bias: jax.Array  # (F,)
    free: jax.Array  # (F, F)
    layout: Layout


def parts(W, layout: Layout) -> Parts:
    """The rows of ``W`` (N, F) by the neurons they come from."""
    return Parts(W[: layout.pixels], W[layout.bias], W[layout.free :], layout)


def logits(p: Parts, x, ticks: int):
    """The output neurons after ``ticks`` ticks of s = relu(clamp(s) @ A), (B, classes).

    The clamped neurons' part of each tick, ``x @ W[:pixels] + W[pixels]``, is the same every
    tick.
    """
    drive = x @ p.pixels + p.bias  # (B, F)
    free = jax.nn.relu(drive)  # tick 0 read zeros in the free neurons
    for _ in range(ticks - 1):
        free = jax.nn.relu(drive + free @ p.free)  # (B, F)
    return free[:, -p.layout.classes :]


def predict(w, x, hp):
    """Class scores: the output neurons after the last tick, (N, classes)."""
    A = w["A"]
    layout = layout_of(len(A), x.shape[1], hidden=hp["hidden"])
    return logits(parts(A[:, layout.free :], layout), x, int(hp["ticks"]))


def free_loss(p: Parts, x, y, hp):
    """Mean softmax cross-entropy of the logits against ``y``."""
    z = logits(p, x, int(hp["ticks"]))
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], 1)[:, 0])


def params(weights, spec) -> Parts:
    """The trained part of the weights, W = A[:, free:] padded, made on A's device, in parts;
    laid out for the run's data (``spec``: its input width and classes)."""
    A = weights["A"]
    hp, pixels = spec.hyperparameters, spec.x_train.shape[1]
    layout = layout_of(len(A), pixels, hidden=hp["hidden"], classes=spec.classes)
    shape, rows, columns = padded_layout(layout)
    W = jnp.zeros(shape, A.dtype, device=A.sharding)
    W = W.at[jnp.ix_(rows, columns)].set(A[:, layout.free :])
    return parts(W, layout)


def weights(p: Parts, weights):
    """``weights`` with A[:, free:] replaced by the trained parts, their padding dropped."""
    A = weights["A"]
    _, rows, columns = padded_layout(p.layout)
    W = jnp.concatenate([p.pixels, p.bias[None], p.free])
    return {"A": A.at[:, p.layout.free :].set(W[jnp.ix_(rows, columns)])}


def STEP(p, state, x, y, extras, hp):  # noqa: N802 - the name every variant module exports
    """One Adam step on the parts of W = A[:, free:]."""
    value, grad = jax.value_and_grad(free_loss)(p, x, y, hp)
    p, state = adam(p, grad, state, hp)
    return p, state, value


def initial_state(p):
    return adam_state(p)
