"""``sigmoid_mlp`` in JAX: 784-H-10 sigmoid, softmax, squared error, SGD.

See mnistbench.variants.sigmoid_mlp.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from mnistbench_jax.optimizers import gradient_step


def predict(w, x, hp):
    """Class probabilities, shape (N, 10): softmax over each sample's classes."""
    a = jax.nn.sigmoid(x @ w["W1"])  # (B, H); stable on raw 0..255 inputs
    return jax.nn.softmax(a @ w["W2"], axis=1)  # (B, 10)


def loss(w, x, y, extras, hp):
    """mean_b sum_k (softmax_k - onehot_k)^2."""
    diff = predict(w, x, hp) - jax.nn.one_hot(y, w["W2"].shape[1])
    return jnp.mean(jnp.sum(diff * diff, axis=1))


STEP = gradient_step(loss)


def initial_state(w):
    return ()
