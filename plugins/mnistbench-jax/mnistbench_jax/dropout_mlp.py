"""``dropout_mlp`` in JAX: 784-H-10 ReLU with the core's dropout masks, linear output, squared
error, SGD. See mnistbench.variants.dropout_mlp."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mnistbench_jax.optimizers import gradient_step


def outputs(w, x, mask):
    """(B, 10) outputs with hidden units scaled by ``mask`` (0 or 1/keep; ones to predict)."""
    return (jax.nn.relu(x @ w["W1"]) * mask) @ w["W2"]


def predict(w, x, hp):
    """Outputs (N, 10) without dropout: the masks' 1/keep scaling keeps expectations equal."""
    return jax.nn.relu(x @ w["W1"]) @ w["W2"]


def loss(w, x, y, extras, hp):
    """mean_b 1/2 sum_k (out_k - onehot_k)^2, with the core's masks applied."""
    diff = outputs(w, x, extras["dropout_masks"]) - jax.nn.one_hot(y, w["W2"].shape[1])
    return 0.5 * jnp.sum(diff * diff) / len(x)


STEP = gradient_step(loss)


def initial_state(w):
    return ()
