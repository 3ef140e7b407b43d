"""Array comparisons for the conformance suites that say what differs, by how much and where.

A failing comparison is one line a backend's author can act on: what was compared, the largest
difference, its position, both values there and the tolerance, e.g.
``first step's move of W1: largest difference 0.0031 at (12, 7): 0.0102 against 0.0071 (allowed
0.0001)``. The suites call these instead of bare ``assert`` statements, so the message is the
same whether or not pytest rewrites their asserts.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _position(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")" if len(index) != 1 else f"[{index[0]}]"


def assert_close(
    what: str, actual: Any, expected: Any, *, rtol: float = 0.0, atol: float = 0.0
) -> None:
    """Fail unless ``actual`` is within ``atol + rtol * |expected|`` of ``expected`` everywhere
    (NaN matches only NaN), naming ``what`` and the worst element: the one that exceeds its
    allowance the most. Shapes must agree first."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    both_nan = np.isnan(a) & np.isnan(e)
    difference = np.where(both_nan, 0.0, np.abs(a - e))
    difference[np.isnan(difference)] = np.inf  # NaN against a number
    allowed = atol + rtol * np.abs(e)
    excess = difference - allowed
    if actual.size == 0 or not np.any(excess > 0):
        return
    worst = np.unravel_index(int(np.argmax(excess)), actual.shape)
    failing = int(np.count_nonzero(excess > 0))
    raise AssertionError(
        f"{what}: largest difference {difference[worst]:.3g} at {_position(worst)}: "
        f"{a[worst]:.7g} against {e[worst]:.7g} (allowed {allowed[worst]:.3g}; "
        f"{failing} of {actual.size} elements outside rtol={rtol:g}, atol={atol:g})"
    )


def assert_equal(what: str, actual: Any, expected: Any) -> None:
    """Fail unless ``actual`` equals ``expected`` bit for bit (shape and every element), naming
    ``what`` and the element that differs most."""
    assert_close(what, actual, expected)


def assert_that(condition: bool, message: str) -> None:
    """Fail with ``message`` (what was checked, and the values) unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)
