"""The aggregate step: every run's metrics into tidy tables, with pandas.

    python -m mnistbench aggregate results/*/*/*/seed*/metrics.json --out results

Writes ``summary.csv`` (one row per run), ``confusion.csv`` (long form: one row per run, true
class and predicted class) and ``history.csv`` (one row per run and epoch). Each run's Snakemake
benchmark (``train_benchmark.tsv`` beside its metrics) adds the train job's wall time, when
present.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError

RUN_KEYS = ["dataset", "variant", "backend", "seed"]
REQUIRED_KEYS = [*RUN_KEYS, "test_accuracy", "confusion_matrix"]
SUMMARY_COLUMNS = [
    *RUN_KEYS,
    "device",
    "test_accuracy",
    "final_train_loss",
    "epochs",
    "train_samples",
    "test_samples",
    "train_seconds",
    "samples_per_second",
    "predict_seconds",
    "predict_samples_per_second",
    "peak_rss_mb",
    "job_wall_seconds",
    "backend_version",
    "hyperparameters",  # JSON: the values the run used
]


def _benchmark(run_dir: Path) -> dict[str, float]:
    """Wall seconds of the train job, from Snakemake's benchmark file.

    Its memory figures are left out: Snakemake samples memory, and a job of a second or less
    can end before a sample, reading near zero. ``peak_rss_mb`` (from the kernel) is exact.
    """
    path = run_dir / "train_benchmark.tsv"
    if not path.exists():
        return {"job_wall_seconds": float("nan")}
    return {"job_wall_seconds": float(pd.read_csv(path, sep="\t")["s"].iloc[0])}


def tables(metrics_paths: Sequence[str | Path]) -> dict[str, pd.DataFrame]:
    """Build the summary, confusion and history tables from ``metrics.json`` files."""
    if not metrics_paths:
        raise MnistbenchError("no metrics files given")
    summary, confusion, history = [], [], []
    for path in map(Path, metrics_paths):
        metrics = artifacts.read_json(path)
        missing = [k for k in REQUIRED_KEYS if k not in metrics]
        if missing:
            raise MnistbenchError(f"{path}: not a metrics file (missing {', '.join(missing)})")
        keys = {k: metrics[k] for k in RUN_KEYS}
        used = json.dumps(metrics.get("hyperparameters", {}), sort_keys=True)
        summary.append({**metrics, "hyperparameters": used, **_benchmark(path.parent)})
        for true, row in enumerate(metrics["confusion_matrix"]):
            confusion.extend(
                {**keys, "true": true, "predicted": p, "count": c} for p, c in enumerate(row)
            )
        epochs = pd.read_csv(path.parent / "history.csv")
        history.append(epochs.assign(**keys))
    # reindex, not [], so that metrics from an older mnistbench lacking a column read as blank
    summary = pd.DataFrame(summary).reindex(columns=SUMMARY_COLUMNS)
    summary = summary.sort_values(RUN_KEYS, ignore_index=True)
    history = pd.concat(history, ignore_index=True)
    history = history[RUN_KEYS + [c for c in history.columns if c not in RUN_KEYS]]
    return {
        "summary": summary,
        "confusion": pd.DataFrame(confusion).sort_values(
            RUN_KEYS, kind="stable", ignore_index=True
        ),
        "history": history.sort_values([*RUN_KEYS, "epoch"], ignore_index=True),
    }


def run(metrics_paths: Sequence[str | Path], out: str | Path) -> dict[str, Path]:
    """Write each table as ``<out>/<name>.csv``; return the paths written."""
    written = {}
    for name, table in tables(metrics_paths).items():
        path = Path(out) / f"{name}.csv"
        artifacts.write_atomically(path, lambda p, t=table: t.to_csv(p, index=False))
        written[name] = path
    return written
