"""LeNet-5 for the JAX backend (step protocol 1): a pure step, gradients by ``jax.grad``.

The protocol: ``STEP(w, state, x, y, extras, hp) -> (w, state, loss)`` is pure (the backend
scans it over an epoch's batches in one compiled function), ``initial_state(w)`` is the
optimiser's state, ``predict(w, x, hp)`` the scores.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

SCALE, SLOPE = 1.7159, 2 / 3  # f(a) = 1.7159 tanh(2a/3)
PAD = 2


def act(z):
    return SCALE * jnp.tanh(SLOPE * z)


def conv(x, W, b, pad: int):
    """Cross-correlation, stride 1, NCHW inputs and OIHW kernels."""
    out = lax.conv_general_dilated(
        x, W, (1, 1), ((pad, pad), (pad, pad)), dimension_numbers=("NCHW", "OIHW", "NCHW")
    )
    return out + b[None, :, None, None]


def pool(a):
    """Means of 2x2 blocks: (B, C, H, W) -> (B, C, H/2, W/2)."""
    b, c, h, w = a.shape
    return a.reshape(b, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def predict(w, x, hp=None):
    """The logits (N, 10) for images ``x`` (N, 1, H, W)."""
    p1 = pool(act(conv(x, w["W1"], w["b1"], PAD)))  # (B, 6, 14, 14)
    p2 = pool(act(conv(p1, w["W2"], w["b2"], 0)))  # (B, 16, 5, 5)
    a3 = act(p2.reshape(len(x), -1) @ w["W3"] + w["b3"])  # (B, 120)
    a4 = act(a3 @ w["W4"] + w["b4"])  # (B, 84)
    return a4 @ w["W5"] + w["b5"]  # (B, 10)


def loss(w, x, y):
    """Mean softmax cross-entropy against labels ``y`` (B,)."""
    z = predict(w, x)
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], 1)[:, 0])


def STEP(w, state, x, y, extras, hp):  # noqa: N802 - the name the protocol asks for
    """One plain-SGD step; the loss before it."""
    value, grads = jax.value_and_grad(loss)(w, x, y)
    lr = jnp.float32(hp["lr"])
    return jax.tree.map(lambda p, g: p - lr * g, w, grads), state, value


def initial_state(w):
    return ()  # plain SGD keeps no state
