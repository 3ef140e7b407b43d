"""The report's tables, computed from the aggregated ones: plain DataFrames of raw numbers.

Each column name says what was measured and its unit; :mod:`mnistbench.report.html` formats
them for the page, and the report step also writes them as CSV beside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mnistbench.plan import points
from mnistbench.report import uncertainty
from mnistbench.report.aggregate import with_point
from mnistbench.training.kernels import ITEM_PREFIX as KERNELS
from mnistbench.training.provenance import LOAD_PREFIXES
from mnistbench.variants import VARIANTS

GROUP_KEYS = ["dataset", "variant", "backend", "point", "device", "implementation"]
EPOCH_SECONDS = "train time per epoch (s, inside train_epoch)"
PREDICT_US = "predict time (µs per test image, whole test set, median of 3)"
SPEEDUP = "training speed-up over {} (×, ratio of medians)"
ACCURACY_LOW = "test accuracy, 95% interval, low"
ACCURACY_HIGH = "test accuracy, 95% interval, high"
MEMORY = "train memory (MiB, peak above the process once set up, max)"
# What the memory column measures, for its caption.
MEMORY_MEANS = (
    "Train memory: the run's peak resident memory during its training epochs and their "
    "scoring, above what the process held once the backend was set up (libraries imported, "
    "code compiled, data transferred), from the kernel (Linux's VmHWM, reset at that point); "
    "blank for runs recorded before it was measured."
)

RUN_COLUMNS = {
    "dataset": "dataset",
    "variant": "variant",
    "backend": "backend",
    "point": "point",
    "seed": "seed",
    "device": "device",
    "implementation": "implementation",
    "test_accuracy": "test accuracy (fraction)",
    "final_train_loss": "last-epoch train loss",
    "epochs": "epochs",
    "train_samples": "training images",
    "test_samples": "test images",
    "train_seconds": "train time (s, inside train_epoch, all epochs)",
    "samples_per_second": "training throughput (images/s)",
    "predict_us": PREDICT_US,
    "train_memory_mb": "train memory (MiB, peak above the process once set up)",
    "peak_rss_mb": "train process peak memory (MiB, resident, imports included)",
    "job_wall_seconds": "train job wall time (s, Snakemake benchmark)",
    "backend_version": "framework version",
}


# The aggregated tables' text columns, read as the text written: a framework version "2.10" is
# not the number 2.1. pandas.read_csv(dtype=TEXT_COLUMNS) ignores those a table lacks.
TEXT_COLUMNS = dict.fromkeys(
    ["dataset", "variant", "backend", "status", "reason", "device", "implementation"]
    + ["backend_version"],
    str,
)


def with_derived(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` plus seconds per epoch and predict microseconds per test image."""
    return summary.assign(
        epoch_seconds=summary["train_seconds"] / summary["epochs"],
        predict_us=summary["predict_seconds"] / summary["test_samples"] * 1e6,
    )


def runs_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Every run, one row each."""
    summary = with_point(summary)
    return with_derived(summary).reindex(columns=list(RUN_COLUMNS)).rename(columns=RUN_COLUMNS)


# Accuracy, in context -------------------------------------------------------------------------


def recipe_departures(row: Mapping) -> str:
    """Where a run departs from its source notebook's recipe: hyperparameters, subsets, network.

    Empty for a run that follows the recipe, so a cut-down run (one epoch on 4,000 images) says
    why its accuracy sits below the source notebook's figure.
    """
    variant = VARIANTS.get(row["variant"])
    notes = []
    used = json.loads(row["hyperparameters"]) if isinstance(row.get("hyperparameters"), str) else {}
    if variant:
        recipe = {**variant.defaults, **variant.seed_recipe}
        notes += [
            f"{key} {value:g} (source notebook: {recipe[key]:g})"
            for key, value in sorted(used.items())
            if key in recipe and value != recipe[key]
        ]
        if variant.departure and not variant.seed_recipe:
            notes.append("another network (see Variants)")
    for split in ("train", "test"):
        limit = row.get(f"{split}_limit")
        if limit is not None and not pd.isna(limit):
            notes.append(f"first {int(limit):,} {split} images only")
    return "; ".join(notes)


def accuracy_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy over seeds per backend, beside the source notebook's figure, epochs, images
    and recipe."""
    summary = with_point(summary)
    runs = summary.assign(departures=summary.apply(recipe_departures, axis=1))
    for column in ("epochs", "train_samples", "test_samples"):
        if column not in runs:
            runs[column] = np.nan
    table = (
        runs.groupby(GROUP_KEYS, sort=True)
        .agg(
            seeds=("seed", "count"),
            mean=("test_accuracy", "mean"),
            sd=("test_accuracy", "std"),
            epochs=("epochs", "max"),
            train_images=("train_samples", "max"),
            test_images=("test_samples", "max"),
            departures=("departures", lambda d: "; ".join(sorted(set(d) - {""}))),
        )
        .reset_index()
    )
    table = table.merge(uncertainty.accuracy_intervals(runs, GROUP_KEYS), on=GROUP_KEYS, how="left")
    # The source notebooks trained on MNIST: their figures mean nothing beside another dataset.
    table["seed"] = [
        VARIANTS[v].seed_accuracy if v in VARIANTS and d == "mnist" else np.nan
        for d, v in zip(table["dataset"], table["variant"])
    ]
    return table.rename(
        columns={
            "seeds": "seeds",
            "mean": "test accuracy (fraction, mean over seeds)",
            "sd": "sd over seeds",
            "seed": "source notebook's test accuracy (its full recipe)",
            "epochs": "epochs",
            "train_images": "training images",
            "test_images": "test images",
            "departures": "departs from the source notebook's recipe",
            uncertainty.LOW: ACCURACY_LOW,
            uncertainty.HIGH: ACCURACY_HIGH,
        }
    )[
        [
            *GROUP_KEYS,
            "seeds",
            "test accuracy (fraction, mean over seeds)",
            "sd over seeds",
            ACCURACY_LOW,
            ACCURACY_HIGH,
            "interval",
            "source notebook's test accuracy (its full recipe)",
            "epochs",
            "training images",
            "test images",
            "departs from the source notebook's recipe",
        ]
    ]


# Speed, as ratios to a baseline backend -------------------------------------------------------


def speedups(summary: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per run, how many times faster than the baseline backend's median run (same variant and
    point).

    ``train speed-up`` is the baseline's median seconds per epoch over this run's; likewise for
    predict. NaN where the baseline backend has no run of that dataset and variant.
    """
    summary = with_point(summary)
    # A run of another implementation pairs with the baseline's run of its point without it.
    runs = with_derived(summary).assign(
        paired=summary["point"].map(lambda p: points.without(p, "implementation"))
    )
    base = (
        runs[runs["backend"] == baseline]
        .groupby(["dataset", "variant", "paired"])[["epoch_seconds", "predict_us"]]
        .median()
        .add_prefix("baseline_")
    )
    runs = runs.join(base, on=["dataset", "variant", "paired"]).drop(columns="paired")
    return runs.assign(
        train_speedup=runs["baseline_epoch_seconds"] / runs["epoch_seconds"],
        predict_speedup=runs["baseline_predict_us"] / runs["predict_us"],
    )


def speed_table(summary: pd.DataFrame, baseline: str = "numpy") -> pd.DataFrame:
    """Seconds per epoch (min, median, max over seeds) and speed-ups over ``baseline``.

    A speed-up is the baseline's median over this backend's median (2: twice as fast); the
    chart's whiskers use :func:`speedups`, one ratio per seed.
    """
    runs = speedups(summary, baseline)
    if "train_memory_mb" not in runs:  # runs recorded before it was measured
        runs = runs.assign(train_memory_mb=np.nan)
    table = (
        runs.groupby(GROUP_KEYS)
        .agg(
            seeds=("seed", "count"),
            epoch_min=("epoch_seconds", "min"),
            epoch_median=("epoch_seconds", "median"),
            epoch_max=("epoch_seconds", "max"),
            baseline_epoch=("baseline_epoch_seconds", "first"),
            baseline_predict=("baseline_predict_us", "first"),
            throughput=("samples_per_second", "median"),
            predict=("predict_us", "median"),
            memory=("train_memory_mb", "max"),
        )
        .reset_index()
    )
    # ratios of medians: the baseline's own speed-up is exactly 1
    speedup = table.pop("baseline_epoch") / table["epoch_median"]
    table.insert(table.columns.get_loc("epoch_max") + 1, "speedup", speedup)
    predict_speedup = table.pop("baseline_predict") / table["predict"]
    table.insert(table.columns.get_loc("predict") + 1, "predict_speedup", predict_speedup)
    return table.rename(
        columns={
            "epoch_min": "train s/epoch, min over seeds",
            "epoch_median": "train s/epoch, median",
            "epoch_max": "train s/epoch, max",
            "speedup": SPEEDUP.format(baseline),
            "throughput": "training throughput (images/s, median)",
            "predict": "predict (µs per test image, median)",
            "predict_speedup": f"predict speed-up over {baseline} (×, ratio of medians)",
            "memory": MEMORY,
        }
    )


# Time to accuracy -----------------------------------------------------------------------------


def time_to_accuracy(history: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    """Training seconds until test accuracy first reaches the variant's threshold, per backend.

    Seconds are summed over epochs (time inside train_epoch; scoring excluded) up to and
    including the first scored epoch at or above the threshold; median over the seeds that
    reached it. A run scores only some epochs (``curve_points``), so it may have reached the
    threshold at an unscored epoch before: the figure is an upper bound. Variants without a
    threshold are left out.
    """
    history = with_point(history)
    rows = []
    history = history[history["variant"].isin(list(thresholds))]
    keys = ["dataset", "variant", "backend", "point"]
    for (dataset, variant, backend, point), runs in history.groupby(keys):
        target = thresholds[variant]
        seconds, epochs, best = [], [], []
        for _, run in runs.groupby("seed"):
            run = run.sort_values("epoch")
            best.append(run["test_accuracy"].max())
            hit = run["test_accuracy"].to_numpy() >= target
            if hit.any():
                first = int(np.argmax(hit))
                seconds.append(run["seconds"].to_numpy()[: first + 1].sum())
                epochs.append(run["epoch"].to_numpy()[first])
        rows.append(
            {
                "dataset": dataset,
                "variant": variant,
                "backend": backend,
                "point": point,
                "target test accuracy": target,
                "seeds reaching it": f"{len(seconds)} of {len(best)}",
                "training seconds to reach it (median)": np.median(seconds) if seconds else np.nan,
                "epoch reached (median)": np.median(epochs) if epochs else np.nan,
                "best test accuracy (fraction, max over seeds)": max(best),
            }
        )
    return pd.DataFrame(rows)


# Provenance -----------------------------------------------------------------------------------

MACHINE_ITEMS = [
    "CPU model",
    "CPU cores",
    "cores available to the job",
    "threads",
    "GPU",
    "CUDA",
    "cuDNN",
    "platform",
]
CODE_ITEMS = ["commit", "uncommitted changes"]
_RUN = ["dataset", "variant", "backend", "point", "seed"]
DIFFERS = "differs between runs (see below)"


def _scope(item: str) -> list[str]:
    """What an item may rightly differ by: the machine by device, a framework by backend..."""
    if item in MACHINE_ITEMS:
        return ["device"]
    if item == "framework" or item.startswith(KERNELS):
        return ["backend"]
    if item.startswith("data "):
        return ["dataset"]
    return []


def provenance_tables(provenance: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What produced the runs: shared values once, and the runs where a value differs.

    Returns ``code`` and ``libraries`` (item, value), ``machines`` (one row per device),
    ``data`` (dataset, file, SHA-256) and ``differs`` (run, item, value: only items whose value
    is not the same across the runs it should be the same for).
    """
    provenance = with_point(provenance)
    shared, differs = [], []
    for item, rows in provenance.groupby("item", sort=False):
        scope = _scope(item)
        groups = rows.groupby(scope) if scope else [((), rows)]
        for key, group in groups:
            values = group["value"].unique()
            key = dict(zip(scope, key if isinstance(key, tuple) else (key,)))
            shared.append(
                {**key, "item": item, "value": values[0] if len(values) == 1 else DIFFERS}
            )
            if len(values) > 1:
                differs.append(group[[*_RUN, "item", "value"]])
    shared = pd.DataFrame(shared, columns=["device", "backend", "dataset", "item", "value"])
    machines = (
        shared[shared["item"].isin(MACHINE_ITEMS)]
        .pivot(index="device", columns="item", values="value")
        .reindex(columns=MACHINE_ITEMS)
        .reset_index()
    )
    machines.columns.name = None
    machine_or_data = shared["item"].isin(MACHINE_ITEMS) | shared["item"].str.startswith("data ")
    # a job's load is its own moment's: listed run by run below, not as a shared value
    moment = shared["item"].str.startswith(LOAD_PREFIXES)
    libraries = shared[~machine_or_data & ~shared["item"].isin(CODE_ITEMS) & ~moment]
    data = shared[shared["item"].str.startswith("data ")]
    return {
        "code": shared[shared["item"].isin(CODE_ITEMS)][["item", "value"]],
        "machines": machines,
        "libraries": libraries.assign(
            item=[_library_label(i, b) for i, b in zip(libraries["item"], libraries["backend"])]
        )[["item", "value"]],
        "data": pd.DataFrame(
            {
                "dataset": data["dataset"],
                "file": data["item"].str.removeprefix("data "),
                "SHA-256 of the IDX file read": data["value"],
            }
        ),
        "differs": _by_run(differs),
    }


def _library_label(item: str, backend: str) -> str:
    """A library item as the table shows it: a backend's own items say which backend's runs."""
    if item == "framework":
        return "backend framework"
    return f"{item} ({backend} runs)" if item.startswith(KERNELS) else item


def _by_run(differs: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per run, one column per item that differs."""
    keys = _RUN
    if not differs:
        return pd.DataFrame(columns=keys)
    table = pd.concat(differs).pivot_table(
        index=keys, columns="item", values="value", aggfunc="first", sort=True
    )
    table.columns.name = None
    return table.reset_index()
