"""One look of a seed plan: is every comparison of a cell decided after its seeds so far?

    python -m mnistbench decide-seeds --count 3 --baseline numpy \\
        --rule '{"first": 3, "max": 20, "step": 2}' --out look.json \\
        results/mnist/mlp/numpy/default/seed0 results/mnist/mlp/jax/default/seed0 ...

A cell is a (dataset, variant, point); its runs are every backend's seeds so far. Each backend is
compared with the baseline seed by seed (:mod:`mnistbench.report.sequential`):

- accuracy: the difference of the two runs' accuracy on the same test images, paired by seed;
- speed: the log of the baseline's training seconds over the backend's, a run-to-run ratio: each
  seed's runs are separate processes.

The look writes what it decided as JSON, with ``stop`` true where every comparison is decided
or the plan's maximum is reached: the workflow adds seeds to the cell only while it is false.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError
from mnistbench.evaluation import predictions
from mnistbench.plan.experiment import Run
from mnistbench.plan.seed_plan import SeedPlan
from mnistbench.report import sequential
from mnistbench.report.html import table

NOT_TESTABLE = "not testable"


def _read_run(directory: Path) -> tuple[np.ndarray | None, float | None]:
    """(correct per test image, training seconds) of a run; None where it has none (diverged)."""
    path = directory / "train.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MnistbenchError(f"{path}: cannot read it ({error})") from None
    kept = directory / predictions.PREDICTIONS
    correct = predictions.read(kept)["correct"].to_numpy() if kept.is_file() else None
    if info.get("status", "ok") != "ok" or correct is None or not len(correct):
        return None, None
    return correct, float(info["train_seconds"])


def per_seed(base: dict, mine: dict) -> dict[str, tuple[list[float], float]] | str:
    """One backend against the baseline over the seeds both ran (``{seed: (correct, seconds)}``
    each): ``{"accuracy": (differences, floor), "speed": (log speed-ups, floor)}``, or why not.

    The accuracy floor is one test image's share rounded away (1/sqrt(12) of it): the smallest
    spread a resolution of one image allows (see :func:`mnistbench.report.sequential.interval`).
    """
    seeds = sorted(set(base) & set(mine))
    missing = [s for s in seeds if base[s][0] is None or mine[s][0] is None]
    if missing:
        return f"{NOT_TESTABLE}: no result for seed {missing[0]} (diverged)"
    images = len(base[seeds[0]][0])
    differences = [float(mine[s][0].mean() - base[s][0].mean()) for s in seeds]
    log_ratios = [math.log(base[s][1] / mine[s][1]) for s in seeds]
    return {
        "accuracy": (differences, 1 / (images * math.sqrt(12))),
        "speed": (log_ratios, 0.0),
    }


def _compare(base: dict, mine: dict, plan: SeedPlan) -> list[dict[str, Any]]:
    """The accuracy and speed decisions of one backend against the baseline, over the seeds
    both ran; "not testable" where a run kept no result (it diverged)."""
    values = per_seed(base, mine)
    if isinstance(values, str):
        seeds = len(set(base) & set(mine))
        return [{"measure": m, "reading": values, "seeds": seeds} for m in ("accuracy", "speed")]
    margins = {"accuracy": plan.margins["accuracy"], "speed": plan.speed_margin}
    accuracy, speed = (
        sequential.decide(values[m][0], margins[m], floor=values[m][1]) for m in margins
    )
    return [
        {"measure": "accuracy", "unit": "difference (fraction of the test set)", **_row(accuracy)},
        {
            "measure": "speed",
            "unit": "train speed-up (×, baseline's seconds / backend's)",
            **_row(speed, transform=math.exp),
        },
    ]


def _row(decision: sequential.Decision, transform=lambda x: x) -> dict[str, Any]:
    return {
        "estimate": transform(decision.estimate),
        "low": transform(decision.low),
        "high": transform(decision.high),
        "reading": decision.reading,
        "seeds": decision.seeds,
    }


def read_cell(runs: Iterable[str | Path], count: int) -> tuple[tuple, dict[str, dict]]:
    """((dataset, variant, point), {backend: {seed: (correct, seconds)}}) of one cell's run
    folders, seeds below ``count``."""
    found: dict[str, dict[int, tuple]] = {}
    cells = set()
    for directory in runs:
        run = Run.from_directory(directory)
        cells.add((run.dataset, run.variant, run.point))
        if run.seed < count:
            found.setdefault(run.backend, {})[run.seed] = _read_run(Path(directory))
    if len(cells) != 1:
        raise MnistbenchError(f"decide-seeds: the runs are of {len(cells)} cells, not one")
    return cells.pop(), found


def decide(runs: Iterable[str | Path], count: int, plan: SeedPlan, baseline: str) -> dict:
    """The look after ``count`` seeds at the cell of ``runs`` (run folders, one cell's)."""
    (dataset, variant, point), found = read_cell(runs, count)
    comparisons = []
    if baseline in found:
        for backend in sorted(set(found) - {baseline}):
            for row in _compare(found[baseline], found[backend], plan):
                comparisons.append({"backend": backend, **row})
    decided = all(
        row["reading"] != sequential.UNDECIDED for row in comparisons
    )  # no baseline, or no other backend: nothing to decide
    return {
        "dataset": dataset,
        "variant": variant,
        "point": point,
        "seeds": count,
        "look": plan.looks().index(count) + 1 if count in plan.looks() else None,
        "baseline": baseline,
        "rule": plan.describe(),
        "method": sequential.METHOD,
        "decided": decided,
        "stop": decided or count >= plan.max,
        "comparisons": comparisons,
    }


def write(look: Mapping[str, Any], out: str | Path) -> None:
    out = Path(out)
    text = json.dumps(look, indent=2, allow_nan=True) + "\n"
    artifacts.write_atomically(out.parent, out.name, lambda p: p.write_text(text))


SUMMARY_COLUMNS = [
    "dataset",
    "variant",
    "point",
    "seeds used",
    "stopped",
    "backend",
    "measure",
    "reading",
    "estimate",
    "95% sequence, low",
    "95% sequence, high",
]


def how_it_stopped(look: Mapping[str, Any]) -> str:
    """``decided after 4 seeds (look 2)`` or ``undecided at the maximum, 20 seeds (look 10)``."""
    where = f"{look['seeds']} seeds (look {look['look']})"
    return f"decided after {where}" if look["decided"] else f"undecided at the maximum, {where}"


def summary(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per comparison of each cell's last look: the seeds used, how the plan stopped
    and what it decided."""
    rows = []
    for path in paths:
        look = json.loads(Path(path).read_text())
        cell = {k: look[k] for k in ("dataset", "variant", "point")}
        stopped = {"seeds used": look["seeds"], "stopped": how_it_stopped(look)}
        if not look["comparisons"]:
            rows.append({**cell, **stopped, "reading": "nothing to compare"})
        for row in look["comparisons"]:
            rows.append(
                {
                    **cell,
                    **stopped,
                    "backend": row["backend"],
                    "measure": row.get("unit", row["measure"]),
                    "reading": row["reading"],
                    "estimate": row.get("estimate"),
                    "95% sequence, low": row.get("low"),
                    "95% sequence, high": row.get("high"),
                }
            )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _cell_name(look: Mapping[str, Any]) -> str:
    point = "" if look["point"] == "default" else f" at {look['point']}"
    return f"{look['variant']} on {look['dataset']}{point}"


def view(paths: Sequence[str | Path]) -> dict[str, Any] | None:
    """The report's block on a seed plan: the rule, one line per cell on how it stopped
    ("mnist mlp default: decided after 4 seeds (look 2)") and the comparisons; None without."""
    if not paths:
        return None
    looks = [json.loads(Path(p).read_text()) for p in paths]
    return {
        "rule": looks[0]["rule"],
        "method": looks[0]["method"],
        "cells": [f"{_cell_name(look)}: {how_it_stopped(look)}" for look in looks],
        "table": table(summary(paths)),
    }
