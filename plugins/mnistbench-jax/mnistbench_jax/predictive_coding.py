"""``predictive_coding`` in JAX: relaxation and local updates, both as gradients of the energy.

See mnistbench.variants.predictive_coding. Bottom-up predictions ``mu1 = x0 W1 + b1`` and
``mu2 = relu(x1) W2 + b2``, errors ``e1 = x1 - mu1``, ``e2 = x2 - mu2``, energy per sample
``F = 1/2 |e1|^2 + 1/2 |e2|^2``. The hidden state relaxes down ``dF/dx1`` with the label clamped;
then the weights take one step down ``dF/dW`` at the relaxed states, which is the Hebbian rule.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def energy(w, x0, x1, x2):
    """Batch sum of F at states ``x1`` (B, H), with image ``x0`` and target ``x2`` clamped."""
    e1 = x1 - (x0 @ w["W1"] + w["b1"])
    e2 = x2 - (jax.nn.relu(x1) @ w["W2"] + w["b2"])
    return 0.5 * (jnp.sum(e1 * e1) + jnp.sum(e2 * e2))


def relax(w, x0, x2, hp):
    """x1 after ``inference_steps`` steps of x1 -= rate * dF/dx1, from x1 = mu1."""
    rate = jnp.float32(hp["inference_rate"])
    state_gradient = jax.grad(energy, argnums=2)  # per sample: F is a sum over the batch

    def settle(_, x1):
        return x1 - rate * state_gradient(w, x0, x1, x2)

    x1 = x0 @ w["W1"] + w["b1"]
    return lax.fori_loop(0, int(hp["inference_steps"]), settle, x1)


def STEP(w, state, x, y, extras, hp):  # noqa: N802 - the name every variant module exports
    """Relax with the label clamped, then w -= lr * d(mean F)/dw at the relaxed states."""
    x2 = jax.nn.one_hot(y, w["W2"].shape[1])
    x1 = lax.stop_gradient(relax(w, x, x2, hp))

    def mean_energy(w):
        return energy(w, x, x1, x2) / len(x)

    value, grads = jax.value_and_grad(mean_energy)(w)
    lr = jnp.float32(hp["lr"])
    return jax.tree.map(lambda p, g: p - lr * g, w, grads), state, value


def predict(w, x, hp):
    """Class scores mu2, (N, 10): one feedforward pass, no label."""
    return jax.nn.relu(x @ w["W1"] + w["b1"]) @ w["W2"] + w["b2"]


def initial_state(w):
    return ()
