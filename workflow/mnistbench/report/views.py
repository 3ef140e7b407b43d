"""The report's result tables as the page shows them: narrow enough to read.

An estimate and its 95% interval share one cell (``0.9826 [0.9818, 0.9833]``, sorted by the
estimate); the columns a verdict rests on stay in the table, and the secondary ones (the
spread's ends, throughput, predict time, raw p, counts) go one click below, into a
``<details>`` table of the same rows. The CSV files beside the report keep every column, as
numbers (:mod:`mnistbench.report.tables`, :mod:`mnistbench.report.uncertainty`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from mnistbench.report import implementations as ways
from mnistbench.report import order, tables, uncertainty
from mnistbench.report.html import Cell, Table, formatter, table

KEYS = ["dataset", "variant", "point", "backend", "device"]


@dataclass(frozen=True)
class View:
    """A table and, one click below it, its secondary columns for the same rows."""

    main: Table
    more: Table | None = None


def with_interval(value: float, low: float, high: float, unit_of: str) -> Cell:
    """One cell: ``value [low, high]`` formatted by the unit of the column ``unit_of``; the
    interval left out where it is missing."""
    if pd.isna(value):
        return Cell("", "", numeric=True)
    fmt = formatter(unit_of)
    interval = "" if pd.isna(low) or pd.isna(high) else f"[{fmt(low)}, {fmt(high)}]"
    return Cell(fmt(value), repr(float(value)), numeric=True, interval=interval)


def _cells(frame: pd.DataFrame, value: str, low: str, high: str) -> list[Cell]:
    return [
        with_interval(v, lo, hi, value) for v, lo, hi in zip(frame[value], frame[low], frame[high])
    ]


def _split(frame, main: list[str], more: list[str], caption: str, backends) -> View:
    """The rows in the report's order, key columns first in both tables."""
    keys = [k for k in KEYS if k in frame]
    frame = order.sorted_rows(frame, backends)
    secondary = [c for c in more if c in frame]
    return View(
        table(frame[[*keys, *[c for c in main if c in frame]]], caption),
        table(frame[[*keys, *secondary]]) if secondary else None,
    )


ACCURACY = "test accuracy (fraction, mean over seeds) [95% interval]"


def accuracy(frame: pd.DataFrame, backends: Sequence[str]) -> View:
    """Mean accuracy with its interval, sd, the source notebook's figure and departures."""
    mean = "test accuracy (fraction, mean over seeds)"
    frame = frame.assign(
        **{ACCURACY: _cells(frame, mean, tables.ACCURACY_LOW, tables.ACCURACY_HIGH)}
    )
    notebook = "source notebook's test accuracy (its full recipe)"
    notebook_applies = len(frame) == 0 or frame[notebook].notna().any()
    methods = sorted(set(frame["interval"].dropna()))
    caption = "95% interval: " + "; ".join(methods) + "." if methods else ""
    if not notebook_applies:
        caption += " The source notebooks' figures are for MNIST: none applies to these datasets."
    main = ["seeds", ACCURACY, "sd over seeds"]
    main += [notebook] if notebook_applies else []
    main += ["departs from the source notebook's recipe"]
    more = ["interval", "epochs", "training images", "test images"]
    return _split(frame, main, more, caption.strip(), backends)


def differences(frame: pd.DataFrame, baseline: str, backends: Sequence[str]) -> View:
    """Each backend's accuracy difference from ``baseline`` with its interval, q and reading."""
    difference = uncertainty.DIFFERENCE.format(baseline)
    shown = f"{difference} [95% interval]"
    low, high = (f"difference {uncertainty.LOW}", f"difference {uncertainty.HIGH}")
    frame = frame.assign(**{shown: _cells(frame, difference, low, high)})
    main = [shown, uncertainty.Q_BH, "reading"]
    more = [
        "seeds paired",
        "images compared (all seeds)",
        f"right where {baseline} is wrong",
        f"wrong where {baseline} is right",
        uncertainty.P_MCNEMAR,
    ]
    return _split(frame, main, more, "", backends)


def speed(frame: pd.DataFrame, baseline: str, backends: Sequence[str]) -> View:
    """Median seconds per epoch, the training speed-up with its interval and reading, and
    memory; predict time, the spread over seeds and throughput one click below."""
    speedup = tables.SPEEDUP.format(baseline)
    train = f"{speedup} [95% interval]"
    predict_speedup = f"predict speed-up over {baseline} (×, ratio of medians)"
    predict = f"{predict_speedup} [95% interval]"
    ends = [
        f"{what} speed-up {end} (×)"
        for what in ("train", "predict")
        for end in (uncertainty.LOW, uncertainty.HIGH)
    ]
    frame = frame.assign(
        **{
            train: _cells(frame, speedup, *ends[:2]),
            predict: _cells(frame, predict_speedup, *ends[2:]),
        }
    )
    main = ["seeds", "train s/epoch, median", train, "train speed-up reading", tables.MEMORY]
    more = [
        "train s/epoch, min over seeds",
        "train s/epoch, max",
        "training throughput (images/s, median)",
        "predict (µs per test image, median)",
        predict,
        "predict speed-up reading",
    ]
    return _split(frame, main, more, tables.MEMORY_MEANS, backends)


def implementations(frame: pd.DataFrame, backends: Sequence[str]) -> View:
    """Each implementation's seconds per epoch, its ratio to tuned's with the interval, and
    whether their predictions differ; set-up time and the raw p one click below."""
    shown = f"{ways.RATIO} [95% interval]"
    low, high = (f"ratio {end} (×)" for end in (uncertainty.LOW, uncertainty.HIGH))
    frame = frame.assign(**{shown: _cells(frame, ways.RATIO, low, high)})
    main = ["implementation", "seeds", ways.EPOCH, shown, ways.READING, ways.AGREEMENT]
    return _split(frame, main, [ways.SETUP, uncertainty.P_MCNEMAR], "", backends)


def hyperparameters(ok: pd.DataFrame) -> dict[str, Table]:
    """Per variant, the hyperparameters its runs used: one column each, one row per set used
    (with the points that used it, where several sets were). Values as the config writes them
    (``1e-08``, ``0.1``), not reformatted by a unit they do not have."""
    found = {}
    for variant, runs in ok.groupby("variant"):
        sets = runs.groupby("hyperparameters", sort=False)["point"].unique()
        several = len(sets) > 1
        rows = [
            {
                **json.loads(used),
                **({"points": ", ".join(order.sorted_naturally(p))} if several else {}),
            }
            for used, p in sets.items()
        ]
        rows.sort(key=lambda row: order.natural(row.get("points", "")))
        frame = pd.DataFrame(rows).map(lambda v: "" if v is None or v != v else str(v))
        found[variant] = table(frame, constant=())
    return found
