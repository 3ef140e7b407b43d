"""Whether a run changed between two result folders by more than noise, as ``asv compare`` asks.

- accuracy, run by run (:func:`run_tests`): McNemar's exact test on the run's test-set
  predictions before and after (the images one version gets right and the other wrong), with
  the Benjamini-Hochberg adjustment over every run tested, since ``compare`` tests every run;
- train and predict time, per group of runs that differ only by seed (:func:`timing_tests`): the
  ratio of medians after / before, with a percentile bootstrap interval over the runs. As in the
  report, a timing verdict needs repeats across processes
  (:func:`~mnistbench.report.statistics.speed_verdict_possible`): the epochs of one process are
  not the run-to-run spread, so one run a side is not tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mnistbench.evaluation import predictions
from mnistbench.report import statistics as st
from mnistbench.report.aggregate import RUN_KEYS

ACCURACY_P = "accuracy p (exact McNemar)"
ACCURACY_Q = "accuracy q (Benjamini-Hochberg)"
UNTESTED = "not tested"
NO_PREDICTIONS = "no predictions kept"
TIME_KEYS = [k for k in RUN_KEYS if k != "seed"]  # a timing group: the runs of every seed


def _kept(folder: Path, name: object) -> pd.DataFrame | None:
    if not isinstance(name, str) or not name or not (folder / name).is_file():
        return None
    return predictions.read(folder / name)


def accuracy_p(before: Path, after: Path, row: pd.Series) -> tuple[float, str]:
    """McNemar's exact p of one run's predictions, before and after; NaN and why not."""
    a = _kept(before, row.get("predictions_a"))
    b = _kept(after, row.get("predictions_b"))
    if a is None or b is None:
        return np.nan, f"accuracy: {NO_PREDICTIONS}"
    if not np.array_equal(a["label"], b["label"]):
        return np.nan, "accuracy: different test images"
    return st.paired_test([(a["correct"].to_numpy(), b["correct"].to_numpy())]).p, ""


def run_tests(both: pd.DataFrame, before: Path, after: Path) -> pd.DataFrame:
    """Per row of ``both`` (runs matched by their keys, ``_a`` before and ``_b`` after): the
    accuracy p-value, its Benjamini-Hochberg q over every test made, and why a run could not
    be tested."""
    rows = []
    for _, row in both.iterrows():
        if row["_merge"] != "both":
            rows.append({ACCURACY_P: np.nan, UNTESTED: ""})
            continue
        accuracy, why_not = accuracy_p(before, after, row)
        rows.append({ACCURACY_P: accuracy, UNTESTED: why_not})
    tests = pd.DataFrame(rows, columns=[ACCURACY_P, UNTESTED], index=both.index)
    tests[ACCURACY_Q] = st.benjamini_hochberg(tests[ACCURACY_P])
    return tests[[ACCURACY_P, ACCURACY_Q, UNTESTED]]


@dataclass(frozen=True)
class TimingTest:
    """One group's time after / before: the ratio of the runs' medians, its 95% interval over
    the runs (None: too few runs for a verdict) and the runs each side had."""

    ratio: float
    interval: st.Interval | None
    runs: tuple[int, int]

    @property
    def changed(self) -> bool:
        """The interval leaves out 1×: a change larger than the run-to-run spread."""
        return self.interval is not None and not self.interval.holds(1.0)


def timing_tests(both: pd.DataFrame, column: str) -> dict[tuple, TimingTest]:
    """Per group of runs in both folders that differ only by seed (:data:`TIME_KEYS`): the
    ratio of ``column``'s medians after / before and, where each side has the runs a verdict
    needs, a bootstrap interval of that ratio over the runs."""
    tests = {}
    matched = both[both["_merge"] == "both"]
    for key, runs in matched.groupby(TIME_KEYS, sort=False):
        after, before = runs[f"{column}_b"].dropna(), runs[f"{column}_a"].dropna()
        if not len(after) or not len(before):
            continue
        counts = (len(before), len(after))
        interval = (
            st.speedup_interval(after, before) if st.speed_verdict_possible(*counts) else None
        )
        ratio = float(st.ratio_of_medians(after.to_numpy(), before.to_numpy()))
        tests[key] = TimingTest(ratio, interval, counts)
    return tests
