"""The aggregate step: every run's metrics into tidy tables, with pandas.

    python -m mnistbench aggregate results/*/*/*/*/seed*/metrics.json --out results

Writes ``summary.csv`` (one row per run), ``confusion.csv`` (long form: one row per run, true
class and predicted class), ``history.csv`` (one row per run and epoch) and ``provenance.csv``
(long form: one row per run and item: commit, CPU model, threads, versions, data digests).
Every table keys a run by :data:`RUN_KEYS`, its point (the folder name of its swept settings)
included, and has one column per swept setting after them (:func:`point_columns`): a run that
does not sweep a setting leaves it blank. Each run's Snakemake benchmark
(``train_benchmark.tsv`` beside its metrics) adds the train job's wall time, when present; its
test-set predictions (``predictions.csv`` beside its metrics) are named in ``summary.csv``'s
``predictions`` column, relative to the output folder, for the paired tests of the report and
``compare``.

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
from mnistbench.plan import points
from mnistbench.plan.experiment import RUN_DIR, Run
from mnistbench.training import provenance

RUN_KEYS = ["dataset", "variant", "backend", "point", "seed"]
# A run's point is optional in its metrics: a run from before sweeps has the empty one.
REQUIRED_KEYS = [*(k for k in RUN_KEYS if k != "point"), "test_accuracy", "confusion_matrix"]
SUMMARY_COLUMNS = [
    *RUN_KEYS,
    "status",  # ok, diverged, failed (a job failed) or missing (its jobs never ran)
    "reason",  # why a run is not ok, in one line
    "device",
    "implementation",  # the way the backend ran the variant (tuned, autograd, compiled)
    "test_accuracy",
    "final_train_loss",
    "epochs",
    "train_samples",
    "test_samples",
    "train_limit",  # the first N training images only (config subset); blank: all
    "test_limit",
    "train_seconds",
    "setup_seconds",  # the backend's untimed set-up (compiling, for a compiled implementation)
    "attempts",  # how many jobs it took to train (more than 1: resumed from a checkpoint)
    "samples_per_second",
    "predict_seconds",
    "predict_samples_per_second",
    "peak_rss_mb",  # the whole process's, imports included
    "train_memory_mb",  # the epochs' own: peak above the process once its backend was set up
    "job_wall_seconds",
    "backend_version",
    "hyperparameters",  # JSON: the values the run used
    "predictions",  # the run's predictions.csv, relative to the summary's folder; blank: none
]


def with_point(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``point`` column: a table from before sweeps has the empty point; a
    summary with an ``implementation`` column, blank for runs from before implementations."""
    if "test_accuracy" in frame and (
        "implementation" not in frame or frame["implementation"].isna().any()
    ):
        frame = frame.assign(implementation=frame.get("implementation", pd.Series(dtype=str)))
        frame["implementation"] = frame["implementation"].fillna("")
    if "point" in frame:
        return frame
    frame = frame.copy()
    frame.insert(frame.columns.get_loc("seed") if "seed" in frame else 0, "point", points.DEFAULT)
    return frame


def point_column(setting: str) -> str:
    """The column of a swept setting: its name, unless a summary column already has that name
    for a measurement (``epochs``, ``train_samples``): then ``<name> (swept)``. A swept device
    or implementation is the ``device`` or ``implementation`` column itself."""
    if setting in ("device", "implementation") or setting not in SUMMARY_COLUMNS:
        return setting
    return f"{setting} (swept)"


def point_columns(settings: dict[str, object]) -> dict[str, object]:
    """A run's swept settings as its point columns."""
    return {point_column(k): v for k, v in settings.items()}


def point_of(metrics: dict) -> tuple[str, dict[str, object]]:
    """(folder name, settings) of a run's point; a run from before sweeps has the empty one."""
    settings = metrics.get("point") or {}
    return points.name(settings), settings


def _number(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def job_wall_seconds(run_dir: Path, step: str = "train") -> float:
    """Wall seconds of the run's ``step`` job, from Snakemake's benchmark file; NaN without one.

    Its memory figures are left out: Snakemake samples memory, and a job of a second or less
    can end before a sample, reading near zero. ``peak_rss_mb`` (from the kernel) is exact.
    """
    path = run_dir / f"{step}_benchmark.tsv"
    if not path.exists():
        return float("nan")
    return float(pd.read_csv(path, sep="\t")["s"].iloc[0])


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
    stated = points.parse(run.point) or {}  # a hashed name states nothing: blank columns
    row |= point_columns({k: _number(v) for k, v in stated.items()})
    row["_swept"] = list(point_columns(stated))
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
        point, settings = point_of(metrics)
        keys = {**{k: metrics[k] for k in RUN_KEYS if k != "point"}, "point": point}
        keys |= point_columns(settings)
        # a backend's default implementation is not in the point: the run says which it was
        keys.setdefault("implementation", metrics.get("implementation"))
        used = json.dumps(metrics.get("hyperparameters", {}), sort_keys=True)
        summary.append(
            {
                **metrics,
                **keys,
                **_status(metrics),
                "hyperparameters": used,
                "job_wall_seconds": job_wall_seconds(path.parent),
                "setup_seconds": (metrics.get("seconds_outside_training") or {}).get("setup"),
                "predictions": predictions_path(path.parent, relative_to),
                "_swept": list(point_columns(settings)),
            }
        )
        for true, row in enumerate(metrics["confusion_matrix"] or []):
            confusion.extend(
                {**keys, "true": true, "predicted": p, "count": c} for p, c in enumerate(row)
            )
        origins.extend(
            {"device": metrics.get("device", ""), **keys, "item": item, "value": value}
            for item, value in provenance.flatten(metrics).items()
        )
        epochs = pd.read_csv(path.parent / "history.csv")
        history.append(epochs.assign(**keys))
    if not history:
        raise MnistbenchError("no run finished: nothing to aggregate")
    swept = sorted({c for row in summary for c in row.get("_swept", ())})
    return _tidy(summary, confusion, pd.concat(history, ignore_index=True), origins, swept)


def _tidy(summary, confusion, history, origins, swept: list[str]) -> dict[str, pd.DataFrame]:
    """The four tables with the run's keys and point columns first, in run order."""
    summary = pd.DataFrame(summary)
    keys = [*RUN_KEYS, *swept]
    order = ["dataset", "variant", "backend", *swept, "point", "seed"]
    # reindex, not [], so that metrics from an older mnistbench lacking a column read as blank
    columns = [*keys, *(c for c in SUMMARY_COLUMNS if c not in keys)]
    summary = summary.reindex(columns=columns).sort_values(order, ignore_index=True)
    confusion = pd.DataFrame(confusion)
    confusion = confusion.reindex(columns=[*keys, "true", "predicted", "count"])
    history = history.reindex(columns=[*keys, *(c for c in history.columns if c not in keys)])
    origins = pd.DataFrame(origins)
    device = ["device"] if "device" not in keys else []
    origins = origins.reindex(columns=[*keys, *device, "item", "value"])
    return {
        "summary": summary,
        "confusion": confusion.sort_values(order, kind="stable", ignore_index=True),
        "history": history.sort_values([*order, "epoch"], ignore_index=True),
        "provenance": origins.sort_values(order, kind="stable", ignore_index=True),
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
