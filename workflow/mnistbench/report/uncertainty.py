"""The report's intervals and tests: what each accuracy, difference and speed-up is worth.

Computed with :mod:`mnistbench.report.statistics` from the aggregated tables and each run's
kept predictions; :mod:`mnistbench.report.tables` and :mod:`mnistbench.report.render` put them
beside the numbers they qualify. Runs pair with the baseline's by the aggregate step's run keys
(:data:`mnistbench.report.aggregate.RUN_KEYS`) other than the backend, so a key added there (a
sweep point) pairs too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mnistbench.evaluation import predictions
from mnistbench.plan import points
from mnistbench.report import statistics as st
from mnistbench.report.aggregate import RUN_KEYS

PAIR_KEYS = [k for k in RUN_KEYS if k != "backend"]  # a run and its baseline run share these
VARIANT_KEYS = [k for k in RUN_KEYS if k not in ("backend", "seed")]  # what a row compares over
COMPARED_KEYS = [*VARIANT_KEYS, "backend"]

LOW, HIGH, METHOD = "95% interval, low", "95% interval, high", "interval"
NO_PREDICTIONS = "no predictions kept"
TOO_FEW = "too few repeats to tell"
NO_DIFFERENCE = "no measurable difference"
NOT_SIGNIFICANT = "no significant difference"
SAME_PREDICTIONS = "no significant difference: the same prediction for every image"
DIFFERENCE = "accuracy difference (fraction, minus {}'s)"
P_MCNEMAR, Q_BH = "p (exact McNemar)", "q (Benjamini-Hochberg)"
DIFFERENCE_COLUMNS = [
    "seeds paired",
    "images compared (all seeds)",
    "right where {} is wrong",
    "wrong where {} is right",
    DIFFERENCE,
    f"difference {LOW}",
    f"difference {HIGH}",
    P_MCNEMAR,
    Q_BH,
    "reading",
]


def accuracy_intervals(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of ``keys``: a 95% interval of the mean test accuracy, and its method."""
    rows = []
    for key, group in runs.groupby(keys, sort=True):
        images = group["test_samples"].max() if "test_samples" in group else np.nan
        accuracies = group["test_accuracy"].dropna()
        if len(accuracies) == 0 or accuracies.nunique() == 1 and not images > 0:
            continue  # Wilson's interval needs the test-set size, and it is not known
        images = int(images) if images > 0 else 0  # unused where the seeds differ
        interval = st.accuracy_interval(group["test_accuracy"].tolist(), images)
        named = dict(zip(keys, key))
        rows.append({**named, LOW: interval.low, HIGH: interval.high, METHOD: interval.method})
    return pd.DataFrame(rows, columns=[*keys, LOW, HIGH, METHOD])


# Differences from the baseline, on the same test images ---------------------------------------


def _correct(kept: object, folder: Path) -> pd.DataFrame | None:
    """The run's kept predictions (``kept``: their path in ``folder``), or None if it kept none."""
    if not isinstance(kept, str) or not kept or not (folder / kept).is_file():
        return None
    return predictions.read(folder / kept)


def _paired(runs: pd.DataFrame, baseline: pd.DataFrame, folder: Path):
    """(boolean correct arrays of each seed's pair, why not) for one backend's runs; a run of
    another implementation pairs with the baseline's run at its point without it."""
    runs = runs.assign(point=runs["point"].map(lambda p: points.without(p, "implementation")))
    pairs = runs.merge(baseline, on=PAIR_KEYS, suffixes=("", "_baseline"))
    if pairs.empty:
        return [], "no baseline run with the same seed"
    arrays = []
    for _, pair in pairs.iterrows():
        mine = _correct(pair["predictions"], folder)
        theirs = _correct(pair["predictions_baseline"], folder)
        if mine is None or theirs is None:
            return [], NO_PREDICTIONS
        if not np.array_equal(mine["label"], theirs["label"]):
            return [], "different test images: no paired test"
        arrays.append((theirs["correct"].to_numpy(), mine["correct"].to_numpy()))
    return arrays, ""


def baseline_differences(
    summary: pd.DataFrame, folder: str | Path, baseline: str, alpha: float = 0.05
) -> pd.DataFrame:
    """Each backend against ``baseline`` on the same test images, seed by seed, pooled.

    One row per backend and variant: the discordant images each way, the accuracy difference
    with its interval, McNemar's exact p and the Benjamini-Hochberg q over every row tested.
    """
    folder = Path(folder)
    columns = ["predictions", *PAIR_KEYS]
    base = summary[summary["backend"] == baseline].reindex(columns=columns)
    rows = []
    for key, runs in summary[summary["backend"] != baseline].groupby(COMPARED_KEYS, sort=True):
        row = dict(zip(COMPARED_KEYS, key))
        arrays, why = _paired(runs.reindex(columns=columns), base, folder)
        if not arrays:
            rows.append({**row, "reading": why})
            continue
        test = st.paired_test(arrays)
        rows.append(
            {
                **row,
                "seeds paired": len(arrays),
                "images compared (all seeds)": test.pairs,
                f"right where {baseline} is wrong": test.second_only,
                f"wrong where {baseline} is right": test.first_only,
                DIFFERENCE.format(baseline): (test.second_only - test.first_only) / test.pairs,
                f"difference {LOW}": test.difference.low,
                f"difference {HIGH}": test.difference.high,
                P_MCNEMAR: test.p,
                "reading": "",
            }
        )
    named = [c.format(baseline) for c in DIFFERENCE_COLUMNS]
    table = pd.DataFrame(rows, columns=[*COMPARED_KEYS, *named])
    tested = table[P_MCNEMAR].notna()
    table[Q_BH] = st.benjamini_hochberg(table[P_MCNEMAR])
    better = np.where(table[DIFFERENCE.format(baseline)] > 0, "more", "less")
    verdict = [f"{b} accurate than {baseline}" for b in better]
    readings = np.where(table[Q_BH] <= alpha, verdict, NOT_SIGNIFICANT)
    better_only, worse_only = (table[c.format(baseline)] for c in DIFFERENCE_COLUMNS[2:4])
    same = better_only + worse_only == 0
    table.loc[tested, "reading"] = np.where(same, SAME_PREDICTIONS, readings)[tested]
    return table


# Speed-ups -----------------------------------------------------------------------------------


SPEED_COLUMNS = [
    f"train speed-up {LOW} (×)",
    f"train speed-up {HIGH} (×)",
    "train speed-up reading",
    f"predict speed-up {LOW} (×)",
    f"predict speed-up {HIGH} (×)",
    "predict speed-up reading",
]


def _epoch_seconds(history: pd.DataFrame) -> dict[tuple, np.ndarray]:
    """Every run's per-epoch training seconds, by run keys: grouped once, not once per row."""
    grouped = history.groupby(RUN_KEYS)["seconds"]
    return {key: group.to_numpy(float) for key, group in grouped}


def _epoch_runs(found: dict[tuple, np.ndarray], runs: pd.DataFrame) -> list[np.ndarray]:
    """Each run's per-epoch training seconds, from :func:`_epoch_seconds`."""
    keys = runs[RUN_KEYS].itertuples(index=False, name=None)
    return [found[key] for key in keys if key in found and len(found[key])]


def _reading(interval: st.Interval | None, runs: tuple[int, int]) -> str:
    """The words for a speed-up's interval from ``runs`` (baseline's, this backend's) runs."""
    if not st.speed_verdict_possible(*runs):
        return st.ONE_RUN
    if interval is None:
        return TOO_FEW
    return NO_DIFFERENCE if interval.holds(1.0) else ("faster" if interval.low > 1 else "slower")


def speed_intervals(
    summary: pd.DataFrame, history: pd.DataFrame, baseline: str, keys: list[str]
) -> pd.DataFrame:
    """Per group of ``keys``: 95% intervals of the train and predict speed-ups over ``baseline``.

    Train: a two-stage bootstrap over seeds and each run's epochs. Predict: a bootstrap over
    seeds of each run's predict time (itself the median of 3). Only where each side has the
    runs a speed verdict needs (:func:`~mnistbench.report.statistics.speed_verdict_possible`):
    else no interval, and the reading says so.
    """
    predict_us = summary["predict_seconds"] / summary["test_samples"] * 1e6
    summary = summary.assign(predict_us=predict_us)
    epochs = _epoch_seconds(history)
    rows = []
    for key, runs in summary.groupby(keys, sort=True):
        row = dict(zip(keys, key))
        base = summary[summary["backend"] == baseline]
        for k in [k for k in VARIANT_KEYS if k in row]:
            # a run of another implementation pairs with the baseline's point without it
            wanted = points.without(row[k], "implementation") if k == "point" else row[k]
            base = base[base[k] == wanted]
        train = predict = None
        if row.get("backend") == baseline:
            rows.append({**row, "train speed-up reading": "the baseline"})
            continue
        base_epochs, own_epochs = _epoch_runs(epochs, base), _epoch_runs(epochs, runs)
        base_predict, own_predict = base["predict_us"].dropna(), runs["predict_us"].dropna()
        train_runs = (len(base_epochs), len(own_epochs))
        predict_runs = (len(base_predict), len(own_predict))
        if len(base) and st.speed_verdict_possible(*train_runs):
            train = st.two_stage_speedup_interval(base_epochs, own_epochs)
        if len(base) and st.speed_verdict_possible(*predict_runs):
            predict = st.speedup_interval(base_predict, own_predict)
        rows.append(
            {
                **row,
                f"train speed-up {LOW} (×)": train.low if train else np.nan,
                f"train speed-up {HIGH} (×)": train.high if train else np.nan,
                "train speed-up reading": _reading(train, train_runs) if len(base) else "",
                f"predict speed-up {LOW} (×)": predict.low if predict else np.nan,
                f"predict speed-up {HIGH} (×)": predict.high if predict else np.nan,
                "predict speed-up reading": _reading(predict, predict_runs) if len(base) else "",
            }
        )
    return pd.DataFrame(rows, columns=[*keys, *SPEED_COLUMNS])
