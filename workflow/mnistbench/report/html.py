"""From DataFrames of raw numbers to the page: digits that fit each unit, sortable tables.

A column's name says its unit, and the unit picks the format: 4 decimals for accuracies and
losses, 3 significant digits for times, ``2.61×`` for speed-ups, thousands separators for counts.
Every numeric cell keeps its raw value in ``data-sort``, so sorting is by value, not by text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jinja2
import pandas as pd

from mnistbench.report.order import sorted_rows


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str = ""  # the raw value to sort by, for numbers
    numeric: bool = False
    interval: str = ""  # "[low, high]" beside the estimate, where the cell has one


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without exponent: 0.00123, 12.3, 1,234."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def formatter(column: str) -> Callable[[float], str]:
    """The format of a numeric column, chosen by the unit its name states."""
    name = column.lower()
    if "speed-up" in name or "ratio" in name or "(×" in name:
        return lambda v: f"{v:.2f}×"
    if "target" in name:
        return "{:g}".format
    if "accuracy" in name or "loss" in name or "sd over seeds" in name or "change (" in name:
        return "{:.4f}".format
    if "images/s" in name or "mib" in name:
        return "{:,.0f}".format
    if "(s" in name or "s/epoch" in name or "seconds" in name or "µs" in name:
        return significant
    return lambda v: f"{v:,.0f}" if float(v).is_integer() else significant(v)


# Columns that, holding one value in every row, move from the table into its caption: on a
# phone the columns that differ (accuracy, seconds) then come first into view.
CONSTANT = ("dataset", "variant", "point", "device", "implementation", "seeds")


def table(
    frame: pd.DataFrame, caption: str = "", constant=CONSTANT, backends: Sequence[str] = ()
) -> Table:
    """A sortable table of ``frame``: numbers formatted by unit, blanks for missing values,
    rows in the report's order (:func:`mnistbench.report.order.sorted_rows`: sweep points by
    their numbers, backends in ``backends``' order).

    Columns named in ``constant`` that hold a single value are stated once in the caption.
    """
    frame = sorted_rows(frame, backends)
    same = [
        c for c in constant if c in frame and len(frame) > 1 and frame[c].nunique(dropna=False) == 1
    ]
    if same:
        values = {c: frame[c].iloc[0] for c in same}
        shown = {c: v for c, v in values.items() if (c, v) != ("point", "default") and v != ""}
        stated = "; ".join(f"{c} {v}" for c, v in shown.items())
        caption = f"Every row: {stated}. {caption}".strip() if stated else caption
        frame = frame.drop(columns=same)
    formats = {c: formatter(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            if isinstance(value, Cell):  # made by the caller: an estimate with its interval
                cells.append(value)
            elif column in formats and not isinstance(value, bool):
                missing = pd.isna(value)
                text = "" if missing else formats[column](value)
                cells.append(Cell(text, "" if missing else repr(float(value)), numeric=True))
            else:
                cells.append(Cell("" if _blank(value) else str(value)))
        rows.append(cells)
    return Table([str(c) for c in frame.columns], rows, caption)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def environment() -> jinja2.Environment:
    """The templates, autoescaped: every value from a table or a config is text, never markup."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("mnistbench.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
