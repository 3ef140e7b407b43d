"""The aggregate step: every run's metrics into tidy tables, with pandas.

    python -m mnistbench aggregate results/*/*/*/seed*/metrics.json --out results

Writes ``summary.csv`` (one row per run), ``confusion.csv`` (long form: one row per run, true
class and predicted class), ``history.csv`` (one row per run and epoch) and ``provenance.csv``
(long form: one row per run and item: commit, CPU model, threads, versions, data digests).
Each run's Snakemake benchmark (``train_benchmark.tsv`` beside its metrics) adds the train job's
wall time, when present; its test-set predictions (``predictions.csv`` beside its metrics) are
named in ``summary.csv``'s ``predictions`` column, relative to the output folder, for the paired
tests of the report and ``compare``.

With ``--allow-missing`` (what the workflow does after a failed job), a run whose metrics file
does not exist still gets a summary row: ``status`` is ``failed`` when one of its jobs left a log,
with the log's error line as ``reason``, else ``missing`` (its jobs never ran).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError
from mnistbench.evaluation.predictions import PREDICTIONS
from mnistbench.plan.experiment import RUN_DIR, Run
from mnistbench.training import provenance

RUN_KEYS = ["dataset", "variant", "backend", "seed"]
REQUIRED_KEYS = [*RUN_KEYS, "test_accuracy", "confusion_matrix"]
SUMMARY_COLUMNS = [
    *RUN_KEYS,
    "status",  # ok, diverged, failed (a job failed) or missing (its jobs never ran)
    "reason",  # why a run is not ok, in one line
    "device",
    "test_accuracy",
    "final_train_loss",
    "epochs",
    "train_samples",
    "test_samples",
    "train_limit",  # the first N training images only (config subset); blank: all
    "test_limit",
    "train_seconds",
    "attempts",  # how many jobs it took to train (more than 1: resumed from a checkpoint)
    "samples_per_second",
    "predict_seconds",
    "predict_samples_per_second",
    "peak_rss_mb",
    "job_wall_seconds",
    "backend_version",
    "hyperparameters",  # JSON: the values the run used
    "predictions",  # the run's predictions.csv, relative to the summary's folder; blank: none
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


def predictions_path(run_dir: Path, relative_to: str | Path | None) -> str | None:
    """Where the run's test-set predictions are, relative to ``relative_to``; None if not kept."""
    path = run_dir / PREDICTIONS
    if not path.is_file():
        return None
    return os.path.relpath(path, relative_to) if relative_to is not None else str(path)


def unfinished(metrics_path: Path) -> dict[str, object]:
    """The summary row of a run without metrics: its keys, status and the reason from its logs."""
    run_dir = metrics_path.parent
    run = Run.from_directory(run_dir)
    root = run_dir.parents[len(Path(RUN_DIR).parts) - 1]
    row = {k: getattr(run, k) for k in RUN_KEYS}
    for step in ("evaluate", "train"):
        log = root / run.log(step)
        if log.is_file():
            return {**row, "status": "failed", "reason": failure_reason(log, step)}
    return {**row, "status": "missing", "reason": "its jobs did not run"}


def failure_reason(log: Path, step: str) -> str:
    """The step's one-line error from ``log``; else its last line; else a pointer to it."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    prefix = f"mnistbench {step}: error: "
    errors = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
    if errors:
        return f"{step}: {errors[-1]}"
    last = next((line for line in reversed(lines) if line), "")
    return f"{step}: {last}" if last else f"{step}: failed without a message (see {log})"


def _status(metrics: dict) -> dict[str, str]:
    status = metrics.get("status", "ok")
    if status == "diverged" and isinstance(metrics.get("diverged"), dict):
        where = metrics["diverged"]
        return {
            "status": status,
            "reason": (f"loss not finite at epoch {where.get('epoch')}, step {where.get('step')}"),
        }
    return {"status": status, "reason": ""}


def tables(
    metrics_paths: Sequence[str | Path],
    allow_missing: bool = False,
    relative_to: str | Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Build the summary, confusion and history tables from ``metrics.json`` files.

    With ``allow_missing``, a metrics file that does not exist gives a ``failed`` or ``missing``
    summary row (see :func:`unfinished`) instead of an error. Prediction paths are relative to
    ``relative_to`` (the folder the tables go to), else as found.
    """
    if not metrics_paths:
        raise MnistbenchError("no metrics files given")
    summary, confusion, history, origins = [], [], [], []
    for path in map(Path, metrics_paths):
        if allow_missing and not path.exists():
            summary.append(unfinished(path))
            continue
        metrics = artifacts.read_json(path)
        missing = [k for k in REQUIRED_KEYS if k not in metrics]
        if missing:
            raise MnistbenchError(f"{path}: not a metrics file (missing {', '.join(missing)})")
        keys = {k: metrics[k] for k in RUN_KEYS}
        used = json.dumps(metrics.get("hyperparameters", {}), sort_keys=True)
        summary.append(
            {
                **metrics,
                **_status(metrics),
                "hyperparameters": used,
                **_benchmark(path.parent),
                "predictions": predictions_path(path.parent, relative_to),
            }
        )
        for true, row in enumerate(metrics["confusion_matrix"] or []):
            confusion.extend(
                {**keys, "true": true, "predicted": p, "count": c} for p, c in enumerate(row)
            )
        origins.extend(
            {**keys, "device": metrics.get("device", ""), "item": item, "value": value}
            for item, value in provenance.flatten(metrics).items()
        )
        epochs = pd.read_csv(path.parent / "history.csv")
        history.append(epochs.assign(**keys))
    if not history:
        raise MnistbenchError("no run finished: nothing to aggregate")
    # reindex, not [], so that metrics from an older mnistbench lacking a column read as blank
    summary = pd.DataFrame(summary).reindex(columns=SUMMARY_COLUMNS)
    summary = summary.sort_values(RUN_KEYS, ignore_index=True)
    history = pd.concat(history, ignore_index=True)
    history = history[RUN_KEYS + [c for c in history.columns if c not in RUN_KEYS]]
    return {
        "summary": summary,
        "confusion": pd.DataFrame(
            confusion, columns=[*RUN_KEYS, "true", "predicted", "count"]
        ).sort_values(RUN_KEYS, kind="stable", ignore_index=True),
        "history": history.sort_values([*RUN_KEYS, "epoch"], ignore_index=True),
        "provenance": pd.DataFrame(origins).sort_values(RUN_KEYS, kind="stable", ignore_index=True),
    }


def run(
    metrics_paths: Sequence[str | Path], out: str | Path, allow_missing: bool = False
) -> dict[str, Path]:
    """Write each table as ``<out>/<name>.csv``; return the paths written."""
    written = {}
    for name, table in tables(metrics_paths, allow_missing, relative_to=out).items():
        written[name] = artifacts.write_atomically(
            out, f"{name}.csv", lambda p, t=table: t.to_csv(p, index=False)
        )
    return written
