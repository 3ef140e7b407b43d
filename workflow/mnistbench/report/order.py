"""One order for everything the report lists: numbers as numbers, backends as the figures
draw them.

A sweep point's name (``batch_size=64``) and a label made from it (``mlp (batch_size=64)``) sort
by the numbers in them, so 16 comes before 64 before 256, in every table, figure, legend and
confusion grid; the backends keep the order of their styles (the baseline first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

NUMBER = re.compile(r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")
KEYS = ["dataset", "variant", "point", "backend", "device", "seed"]  # sorted in this order


def natural(text: object) -> tuple:
    """A sort key reading each number in ``text`` as a number: ``lr=0.05`` before ``lr=0.1``,
    ``batch_size=16`` before ``batch_size=256``; ``default`` before any setting."""
    if text == "default":
        return ((0, 0.0, ""),)
    parts = NUMBER.split(str(text))
    return tuple(
        (1, float(part), "") if i % 2 else (2, 0.0, part) for i, part in enumerate(parts) if part
    )


def sorted_naturally(values: Iterable) -> list:
    return sorted(values, key=natural)


def sorted_rows(frame: pd.DataFrame, backends: Sequence[str] = ()) -> pd.DataFrame:
    """``frame``'s rows by dataset, variant, point (numerically), backend (in ``backends``'
    order, then by name), device and seed: whichever of them it has."""
    keys = [k for k in KEYS if k in frame]
    if not keys or frame.empty:
        return frame
    rank = {b: i for i, b in enumerate(backends)}

    def key(column: pd.Series) -> pd.Series:
        if column.name == "seed":
            return pd.to_numeric(column, errors="coerce")
        if column.name == "backend":
            keys = column.map(lambda b: (rank.get(b, len(rank)), natural(b)))
        else:
            keys = column.map(natural)
        ranks = {k: i for i, k in enumerate(sorted(set(keys)))}  # pandas sorts numbers
        return keys.map(ranks)

    return frame.sort_values(keys, key=key, kind="stable", ignore_index=True)
