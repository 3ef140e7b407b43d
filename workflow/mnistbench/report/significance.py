"""Whether a run changed between two result folders by more than noise, as ``asv compare`` asks.

For each run in both folders, :func:`run_tests` gives

- accuracy: McNemar's exact test on the run's test-set predictions before and after (the
  images one version gets right and the other wrong);
- train time: the Mann-Whitney U test on the run's per-epoch training times before and after,
  where there are enough epochs for the test to reach the level at all;

then the Benjamini-Hochberg adjustment over every test made, since ``compare`` tests every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mnistbench.evaluation import predictions
from mnistbench.report import statistics as st
from mnistbench.report.aggregate import RUN_KEYS, with_point
from mnistbench.report.read_tables import read_table

ACCURACY_P = "accuracy p (exact McNemar)"
ACCURACY_Q = "accuracy q (Benjamini-Hochberg)"
TRAIN_P = "train time p (Mann-Whitney U)"
TRAIN_Q = "train time q (Benjamini-Hochberg)"
UNTESTED = "not tested"
NO_PREDICTIONS = "no predictions kept"
TOO_FEW = "too few repeats to tell"


def read_history(folder: str | Path) -> pd.DataFrame:
    """The per-epoch table ``aggregate`` wrote in ``folder``; empty where there is none."""
    path = Path(folder) / "history.csv"
    if not path.is_file():
        return pd.DataFrame(columns=[*RUN_KEYS, "epoch", "seconds"])
    text = ("dataset", "variant", "backend", "point")
    return with_point(read_table(path, dtype=dict.fromkeys(text, str)))


def epoch_seconds(history: pd.DataFrame) -> dict[tuple, np.ndarray]:
    """Each run's per-epoch training seconds, by its run keys."""
    if history.empty or "seconds" not in history:
        return {}
    return {
        key if isinstance(key, tuple) else (key,): runs["seconds"].dropna().to_numpy(float)
        for key, runs in history.groupby(RUN_KEYS)
    }


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


def train_time_p(before: np.ndarray | None, after: np.ndarray | None, alpha: float):
    """Mann-Whitney U p of one run's epoch times, before and after; NaN and why not."""
    if before is None or after is None:
        return np.nan, "train time: no epoch times"
    p = st.mann_whitney(before, after, alpha)
    if p is None:
        return np.nan, f"train time: {TOO_FEW}, {len(before)} and {len(after)} epochs"
    return p, ""


def run_tests(both: pd.DataFrame, before: Path, after: Path, alpha: float) -> pd.DataFrame:
    """Per row of ``both`` (runs matched by their keys, ``_a`` before and ``_b`` after): the
    p-values, their Benjamini-Hochberg q over every test made, and what could not be tested."""
    times_a = epoch_seconds(read_history(before))
    times_b = epoch_seconds(read_history(after))
    rows = []
    for _, row in both.iterrows():
        if row["_merge"] != "both":
            rows.append({ACCURACY_P: np.nan, TRAIN_P: np.nan, UNTESTED: ""})
            continue
        key = tuple(row[k] for k in RUN_KEYS)
        accuracy, why_not_accuracy = accuracy_p(before, after, row)
        train, why_not_train = train_time_p(times_a.get(key), times_b.get(key), alpha)
        untested = "; ".join(w for w in (why_not_accuracy, why_not_train) if w)
        rows.append({ACCURACY_P: accuracy, TRAIN_P: train, UNTESTED: untested})
    tests = pd.DataFrame(rows, columns=[ACCURACY_P, TRAIN_P, UNTESTED], index=both.index)
    q = st.benjamini_hochberg(np.concatenate([tests[ACCURACY_P], tests[TRAIN_P]]))
    tests[ACCURACY_Q], tests[TRAIN_Q] = q[: len(tests)], q[len(tests) :]
    return tests[[ACCURACY_P, ACCURACY_Q, TRAIN_P, TRAIN_Q, UNTESTED]]
