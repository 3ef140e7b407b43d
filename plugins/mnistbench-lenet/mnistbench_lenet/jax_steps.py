"""LeNet-5 for the JAX backend (step protocol 1): a pure step, gradients by ``jax.grad``.

The protocol: ``STEP(w, state, x, y, extras, hp) -> (w, state, loss)`` is pure (the backend
scans it over an epoch's batches in one compiled function), ``initial_state(w)`` is the
optimiser's state, ``predict(w, x, hp)`` the scores.

Written for XLA's CPU code as much as its GPU code: activations are channels-last (NHWC), each
convolution is the product of its 5x5 patches (gathered by 25 slices) with the kernels, and
pooling is the mean of four strided slices. On one CPU thread a step of 32 images takes about a
third of the time it takes with ``lax.conv_general_dilated`` (NCHW) and a reshaped ``mean``,
whose gradients XLA's CPU backend runs slowly at these small channel counts
(``python bench/floor.py --variants lenet`` times the step against its products).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

SCALE, SLOPE = 1.7159, 2 / 3  # f(a) = 1.7159 tanh(2a/3)
PAD = 2
# Images per predict chunk: the patches of 16 images stay in cache (a whole test set's would be
# gigabytes); on one core a chunk of 16 scores 10,000 images in a quarter of a chunk of 256's time.
PREDICT_ROWS = 16


def act(z):
    return SCALE * jnp.tanh(SLOPE * z)


def conv(x, W, b, pad: int):
    """Cross-correlation, stride 1: NHWC inputs (B, H, W, I), OIHW kernels, NHWC out."""
    o, i, kh, kw = W.shape
    x = jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    h, w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    patches = jnp.stack([x[:, r : r + h, c : c + w] for r in range(kh) for c in range(kw)], -1)
    # (B, h, w, I, kh*kw): flattened in the kernels' (I, kh, kw) order
    return patches.reshape(*patches.shape[:3], i * kh * kw) @ W.reshape(o, -1).T + b


def pool(a):
    """Means of 2x2 blocks: (B, H, W, C) -> (B, H/2, W/2, C)."""
    return (a[:, ::2, ::2] + a[:, 1::2, ::2] + a[:, ::2, 1::2] + a[:, 1::2, 1::2]) * 0.25


def predict(w, x, hp=None):
    """The logits (N, 10) for images ``x`` (N, 1, H, W), :data:`PREDICT_ROWS` images at a time
    (``x`` padded to whole chunks, the padding's rows dropped)."""
    n = len(x)
    padded = jnp.pad(x, ((0, -n % PREDICT_ROWS),) + ((0, 0),) * (x.ndim - 1))
    chunks = padded.reshape(-1, PREDICT_ROWS, *x.shape[1:])
    return lax.map(lambda chunk: logits(w, chunk), chunks).reshape(-1, 10)[:n]


def logits(w, x):
    """The logits (B, 10) for a batch of images ``x`` (B, 1, H, W)."""
    p1 = pool(act(conv(x.transpose(0, 2, 3, 1), w["W1"], w["b1"], PAD)))  # (B, 14, 14, 6)
    p2 = pool(act(conv(p1, w["W2"], w["b2"], 0)))  # (B, 5, 5, 16)
    flat = p2.transpose(0, 3, 1, 2).reshape(len(x), -1)  # in W3's (C, H, W) row order
    a3 = act(flat @ w["W3"] + w["b3"])  # (B, 120)
    a4 = act(a3 @ w["W4"] + w["b4"])  # (B, 84)
    return a4 @ w["W5"] + w["b5"]  # (B, 10)


def loss(w, x, y):
    """Mean softmax cross-entropy against labels ``y`` (B,)."""
    z = logits(w, x)
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], 1)[:, 0])


def STEP(w, state, x, y, extras, hp):  # noqa: N802 - the name the protocol asks for
    """One plain-SGD step; the loss before it."""
    value, grads = jax.value_and_grad(loss)(w, x, y)
    lr = jnp.float32(hp["lr"])
    return jax.tree.map(lambda p, g: p - lr * g, w, grads), state, value


def initial_state(w):
    return ()  # plain SGD keeps no state
