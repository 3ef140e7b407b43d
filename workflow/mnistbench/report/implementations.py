"""What hand-tuning buys: each implementation of a backend against its ``tuned`` one.

Per dataset, variant, backend, device and point (its implementation aside), for a backend run in
more than one way (PyTorch ``tuned``, ``autograd``, ``compiled``): the median seconds per epoch of
each implementation and the median set-up seconds (where ``compiled`` compiles), the ratio of its
median epoch time to the ``tuned`` one's (2×: twice as slow as hand-tuned) with a 95% interval
from the two-stage bootstrap over seeds and epochs that the speed table uses, and McNemar's exact
test of their predictions on the same test images, seed by seed (the same weights, samples and
masks: a significant difference would be a bug, not noise). As for every speed-up in the report,
an interval and a verdict need two runs or more a side
(:func:`~mnistbench.report.statistics.speed_verdict_possible`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mnistbench.plan import points
from mnistbench.report import statistics as st
from mnistbench.report.aggregate import with_point
from mnistbench.report.uncertainty import (
    HIGH,
    LOW,
    NO_DIFFERENCE,
    NO_PREDICTIONS,
    NOT_SIGNIFICANT,
    P_MCNEMAR,
    TOO_FEW,
    _correct,
    _epoch_runs,
    _epoch_seconds,
)

KEYS = ["dataset", "variant", "backend", "device", "paired"]
REFERENCE = "tuned"  # what every other implementation is held against
EPOCH = "train time per epoch (s, median over seeds)"
SETUP = "set-up time (s, median; compiling included)"
RATIO = "epoch time over tuned's (×, ratio of medians)"
READING = "against tuned"
AGREEMENT = "predictions against tuned's"
COLUMNS = [
    "dataset",
    "variant",
    "backend",
    "device",
    "point",
    "implementation",
    "seeds",
    EPOCH,
    SETUP,
    RATIO,
    f"ratio {LOW} (×)",
    f"ratio {HIGH} (×)",
    READING,
    P_MCNEMAR,
    AGREEMENT,
]


def implementation_table(
    summary: pd.DataFrame, history: pd.DataFrame, folder: str | Path | None
) -> pd.DataFrame:
    """One row per implementation of each backend run in more than one way, ``tuned`` first;
    empty where no backend was. ``folder`` holds the runs' kept predictions (None: none)."""
    runs = with_point(summary)
    runs = runs.assign(
        paired=runs["point"].map(lambda p: points.without(p, "implementation")),
        epoch_seconds=runs["train_seconds"] / runs["epochs"],
    )
    epochs = _epoch_seconds(with_point(history))
    rows = []
    for key, group in runs.groupby(KEYS, sort=True):
        found = set(group["implementation"])
        if REFERENCE not in found or len(found) < 2:
            continue
        tuned = group[group["implementation"] == REFERENCE]
        order = [REFERENCE, *sorted(found - {REFERENCE})]
        for implementation in order:
            these = group[group["implementation"] == implementation]
            rows.append(_row(dict(zip(KEYS, key)), implementation, these, tuned, epochs, folder))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(key, implementation, these, tuned, epochs, folder) -> dict:
    row = {
        **{k: key[k] for k in ("dataset", "variant", "backend", "device")},
        "point": these["point"].iloc[0],
        "implementation": implementation,
        "seeds": len(these),
        EPOCH: these["epoch_seconds"].median(),
        SETUP: these["setup_seconds"].median() if "setup_seconds" in these else np.nan,
    }
    if implementation == REFERENCE:
        return {**row, AGREEMENT: "the reference"}
    row[RATIO] = these["epoch_seconds"].median() / tuned["epoch_seconds"].median()
    row[READING] = st.ONE_RUN
    if st.speed_verdict_possible(len(these), len(tuned)):
        interval = st.two_stage_speedup_interval(
            _epoch_runs(epochs, these), _epoch_runs(epochs, tuned)
        )
        row[READING] = _reading(interval)
        if interval is not None:
            row[f"ratio {LOW} (×)"], row[f"ratio {HIGH} (×)"] = interval.low, interval.high
    return {**row, **_agreement(these, tuned, folder)}


def _reading(interval: st.Interval | None) -> str:
    """The words for the interval of an implementation's epoch time over tuned's."""
    if interval is None:
        return TOO_FEW
    if interval.holds(1.0):
        return NO_DIFFERENCE
    return "slower than tuned" if interval.low > 1 else "faster than tuned"


def _agreement(these: pd.DataFrame, tuned: pd.DataFrame, folder) -> dict:
    """McNemar's exact test of the two implementations' predictions, seed with seed."""
    pairs = these.merge(tuned, on="seed", suffixes=("", "_tuned"))
    arrays = []
    for _, pair in pairs.iterrows():
        mine = _correct(pair.get("predictions"), Path(folder)) if folder else None
        theirs = _correct(pair.get("predictions_tuned"), Path(folder)) if folder else None
        if mine is None or theirs is None:
            return {AGREEMENT: NO_PREDICTIONS}
        arrays.append((theirs["correct"].to_numpy(), mine["correct"].to_numpy()))
    if not arrays:
        return {AGREEMENT: "no tuned run with the same seed"}
    test = st.paired_test(arrays)
    reading = NOT_SIGNIFICANT if test.p > 0.05 else "significantly different: a bug to look for"
    return {P_MCNEMAR: test.p, AGREEMENT: reading}
