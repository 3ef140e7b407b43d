"""``mlp`` in JAX: 784-H-10, ReLU, softmax cross-entropy, plain SGD. See mnistbench.variants.mlp."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mnistbench_jax.optimizers import gradient_step


def predict(w, x, hp):
    """Class scores (logits), shape (N, 10)."""
    a = jax.nn.relu(x @ w["W1"] + w["b1"])  # (B, H)
    return a @ w["W2"] + w["b2"]  # (B, 10)


def loss(w, x, y, extras, hp):
    """Mean softmax cross-entropy against labels ``y`` (B,)."""
    z = predict(w, x, hp)
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], 1)[:, 0])


STEP = gradient_step(loss)


def initial_state(w):
    return ()
