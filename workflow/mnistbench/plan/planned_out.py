"""The runs a config asked for that the plan left out, with the reason, for the report.

A pair a backend does not implement, a variant that cannot take a dataset's shape, a backend
that cannot run here (or whose plugin failed to load), a device a backend cannot use: each is
planned out with one line on the terminal, and listed in the report's "Not run" section from
the table written here, ``results/planned_out.csv`` (one row per dataset, variant, backend and
point left out; a blank point is every point of the combination).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mnistbench.plugin.registry import Registry

PATH = "results/planned_out.csv"  # where the workflow writes it, and the report reads it
COLUMNS = ["dataset", "variant", "backend", "point", "reason"]


def row(dataset: str, variant: str, backend: str, reason: str, point: str = "") -> dict:
    return {"dataset": dataset, "variant": variant, "backend": backend, "point": point,
            "reason": reason}  # fmt: skip


def unusable_backends(config: Mapping[str, Any], registry: Registry) -> list[dict[str, str]]:
    """Rows (dataset and variant blank: every one) of the backends ``backends: all`` leaves
    out: those that cannot run here and the plugins that failed to load."""
    if config["backends"] != "all":
        return []
    rows = [
        row("", "", f.plugin, f"backend plugin failed to load: {f.error}")
        for f in registry.failures
    ]
    for name, backend in sorted(registry.backends.items()):
        if reason := backend.unavailable_reason():
            rows.append(row("", "", name, f"backend cannot run here: {reason}"))
    return rows


def for_every_run(rows: Iterable[Mapping[str, str]], config: Mapping[str, Any]) -> list[dict]:
    """``rows`` with a blank dataset or variant made one row per dataset or variant planned."""
    return [
        {**r, "dataset": dataset, "variant": variant}
        for r in rows
        for dataset in ([r["dataset"]] if r["dataset"] else config["datasets"])
        for variant in ([r["variant"]] if r["variant"] else config["variants"])
    ]


def write(rows: Iterable[Mapping[str, str]], path: str | Path = PATH) -> None:
    """Write ``rows`` to ``path``, sorted, only where its content changes: the report, which
    reads it, then runs again only when the list does."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted({tuple(r[c] for c in COLUMNS): r for r in rows}.values(), key=_key))
    path = Path(path)
    if path.is_file() and path.read_text() == text.getvalue():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.getvalue())


def _key(r: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(r[c] for c in COLUMNS)
