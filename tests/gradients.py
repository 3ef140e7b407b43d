"""One finite-difference checker for every hand-written gradient the tests hold to account."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pytest

STEP = 1e-6  # float64 central differences: truncation and rounding both near 1e-10 here


def assert_gradients_match(
    loss: Callable[[dict[str, np.ndarray]], float],
    grads: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray],
    picks: int,
    rng: np.random.Generator,
) -> None:
    """``grads`` against central differences of ``loss`` at ``weights`` (float64), on each
    matrix's ``picks`` largest entries and ``picks`` random ones (zeros must be zero too); fails
    unless at least ``picks`` non-zero gradients per matrix were compared."""
    checked = 0
    for name, value in weights.items():
        flat = np.abs(grads[name]).ravel()
        for index in map(int, [*np.argsort(flat)[-picks:], *rng.integers(0, flat.size, picks)]):
            at = np.unravel_index(index, value.shape)
            plus, minus = dict(weights), dict(weights)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][at] += STEP
            minus[name][at] -= STEP
            numeric = (loss(plus) - loss(minus)) / (2 * STEP)
            assert grads[name][at] == pytest.approx(numeric, rel=1e-5, abs=1e-9), (name, at)
            checked += grads[name][at] != 0
    assert checked >= picks * len(weights)  # the check compared real, non-zero gradients
