"""The two update rules the variants use, as pure functions of (weights, gradients, state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp


def sgd(w, grads, state, hp: Mapping[str, Any]):
    """w -= lr * g; no state."""
    lr = jnp.float32(hp["lr"])
    return jax.tree.map(lambda p, g: p - lr * g, w, grads), state


def adam_state(w) -> dict:
    """Adam's moments (zeros like ``w``) and its step count."""
    zeros = jax.tree.map(jnp.zeros_like, w)
    return {"m": zeros, "v": zeros, "step": jnp.zeros((), jnp.int32)}


def adam(w, grads, state, hp: Mapping[str, Any]):
    """One Adam step in torch.optim.Adam's order of operations (bias corrections per step)."""
    beta1, beta2 = float(hp["beta1"]), float(hp["beta2"])
    lr, eps = float(hp["lr"]), jnp.float32(hp["eps"])
    step = state["step"] + 1
    t = step.astype(jnp.float32)
    m = jax.tree.map(lambda m, g: m + (g - m) * jnp.float32(1 - beta1), state["m"], grads)
    v = jax.tree.map(
        lambda v, g: v * jnp.float32(beta2) + jnp.float32(1 - beta2) * g * g, state["v"], grads
    )
    step_size = lr / (1 - jnp.float32(beta1) ** t)
    correction = jnp.sqrt(1 - jnp.float32(beta2) ** t)
    w = jax.tree.map(lambda p, m, v: p - step_size * m / (jnp.sqrt(v) / correction + eps), w, m, v)
    return w, {"m": m, "v": v, "step": step}


def gradient_step(loss, update=sgd):
    """The step of a variant trained on ``loss(w, x, y, extras, hp)`` by ``update``.

    The loss is measured before the update, as every backend reports it.
    """

    def step(w, state, x, y, extras, hp):
        value, grads = jax.value_and_grad(loss)(w, x, y, extras, hp)
        w, state = update(w, grads, state, hp)
        return w, state, value

    return step
