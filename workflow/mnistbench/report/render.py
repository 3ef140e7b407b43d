"""The report step: one self-contained HTML page from the aggregated tables.

    python -m mnistbench report --tables results --out results/report.html \\
        --baseline numpy --time-to-accuracy mlp=0.97 --configfile config/config.yaml

Every number on the page is read from the tables that ``aggregate`` wrote from the runs' own
measurements; each column says its unit and what was timed. The tables are computed in
:mod:`mnistbench.report.tables`, drawn in :mod:`mnistbench.report.figures` and formatted in
:mod:`mnistbench.report.html`; this module reads, assembles and writes.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError
from mnistbench.report import confusion as confusion_views
from mnistbench.report import (
    figures,
    glance,
    implementations,
    order,
    seed_look,
    statistics,
    sweeps,
    tables,
    uncertainty,
    views,
)
from mnistbench.report.aggregate import RUN_KEYS, with_point
from mnistbench.report.html import environment, table
from mnistbench.report.read_tables import read_table
from mnistbench.variants import VARIANTS

# The derived tables the report step also writes as CSV (``--csv-dir``), for people and for
# ``snakemake --report``.
CSV_TABLES = ("accuracy", "differences", "speed", "time_to_accuracy", "implementations")


@dataclass(frozen=True)
class Settings:
    """What the report is asked to show, beyond the tables: from the workflow's config."""

    baseline: str = "numpy"  # the backend speed-ups and confusion differences refer to
    time_to_accuracy: Mapping[str, float] = field(default_factory=dict)  # variant -> accuracy
    configfiles: Sequence[str] = ()  # the config files of the run, in the order applied
    overrides: Sequence[str] = ()  # the command line's --config entries, as typed
    alpha: float = 0.05  # false discovery rate at which a difference from the baseline is shown
    planned_out: Path | None = None  # the runs the plan left out (mnistbench.plan.planned_out)
    seed_looks: Sequence[str] = ()  # each cell's last look under a seed plan (seed_look.py)


def read_tables(tables_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The aggregated tables; ``provenance.csv`` may be absent (results of an older version)."""
    tables_dir = Path(tables_dir)
    try:
        found = {
            name: read_table(tables_dir / f"{name}.csv", dtype=tables.TEXT_COLUMNS)
            for name in ("summary", "confusion", "history")
        }
        path = tables_dir / "provenance.csv"
        found["provenance"] = (
            read_table(path, dtype=str, keep_default_na=False)
            if path.exists()
            else pd.DataFrame(columns=[*RUN_KEYS, "device", "item", "value"])
        )
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise MnistbenchError(
            f"cannot read the aggregated tables in {tables_dir} ({error})"
        ) from None
    return {name: with_point(frame) for name, frame in found.items()}


def split_by_status(summary: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs with a result, runs without one: diverged, failed or missing)."""
    status = (
        summary["status"].fillna("ok") if "status" in summary else pd.Series("ok", summary.index)
    )
    return summary[status == "ok"], summary[status != "ok"]


def derived_tables(
    found: Mapping[str, pd.DataFrame], settings: Settings, folder: str | Path | None = None
) -> dict[str, pd.DataFrame]:
    """The accuracy, difference, speed and time-to-accuracy tables of the runs with a result.

    ``folder`` holds the tables, and the runs' predictions named in the summary relative to it;
    without it, no difference is tested ("no predictions kept").
    """
    ok, _ = split_by_status(found["summary"])
    if folder is None:
        ok = ok.drop(columns="predictions", errors="ignore")
    speed = tables.speed_table(ok, settings.baseline)
    intervals = uncertainty.speed_intervals(
        ok, found["history"], settings.baseline, tables.GROUP_KEYS
    )
    backends = list(figures.styles(ok["backend"], settings.baseline))
    derived = {
        "accuracy": tables.accuracy_table(ok),
        "differences": uncertainty.baseline_differences(
            ok, folder or ".", settings.baseline, settings.alpha
        ),
        "speed": _beside(speed, intervals, tables.SPEEDUP.format(settings.baseline)),
        "time_to_accuracy": tables.time_to_accuracy(found["history"], settings.time_to_accuracy),
        "implementations": implementations.implementation_table(ok, found["history"], folder),
    }
    # sweep points by their numbers, backends as every figure orders them
    return {name: order.sorted_rows(frame, backends) for name, frame in derived.items()}


def _beside(speed: pd.DataFrame, intervals: pd.DataFrame, speedup: str) -> pd.DataFrame:
    """The speed table with each speed-up's interval and reading right after it."""
    table = speed.merge(intervals, on=tables.GROUP_KEYS, how="left")
    order = list(speed.columns)
    train = [c for c in intervals.columns if c.startswith("train speed-up")]
    predict = [c for c in intervals.columns if c.startswith("predict speed-up")]
    at = order.index(speedup) + 1
    order[at:at] = train
    at = next(i for i, c in enumerate(order) if c.startswith("predict speed-up over")) + 1
    order[at:at] = predict
    return table[order]


def render(tables_dir: str | Path, settings: Settings = Settings()) -> str:
    """The report as one HTML string."""
    found = read_tables(tables_dir)
    ok, not_ok = split_by_status(found["summary"])
    style = figures.styles(ok["backend"], settings.baseline)
    context = {
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": settings,
        **results_context(found, ok, not_ok, settings, style, tables_dir),
        **figures_context(found, ok, settings, style),
        **provenance_context(found["provenance"], ok),
        "seed_plan": seed_look.view(settings.seed_looks),
        "config_texts": config_texts(settings.configfiles),
    }
    return environment().get_template("report.html.j2").render(**context)


def results_context(found, ok, not_ok, settings: Settings, style, folder) -> dict:
    """The overview, the runs without a result, and the accuracy (with its differences from
    the baseline), speed and time tables."""
    derived = derived_tables(found, settings, folder)
    accuracy = derived["accuracy"]
    return {
        "counts": {
            "runs": len(ok),
            "datasets": sorted(ok["dataset"].unique()),
            "variants": sorted(ok["variant"].unique()),
            "backends": list(style),
            "seeds": sorted(ok["seed"].unique()),
        },
        "has_baseline": settings.baseline in set(ok["backend"]),
        "cut_down": int((accuracy["departs from the source notebook's recipe"] != "").sum()),
        "not_ok": table(not_ok[[*RUN_KEYS, "status", "reason"]], backends=list(style))
        if len(not_ok)
        else None,
        "not_implemented": not_implemented(ok),
        "planned_out": not_run(settings.planned_out),
        "accuracy": views.accuracy(accuracy, list(style)),
        "differences_from_baseline": views.differences(
            derived["differences"], settings.baseline, list(style)
        )
        if len(derived["differences"])
        else None,
        "methods": statistics,
        "speed": views.speed(derived["speed"], settings.baseline, list(style)),
        **implementations_context(ok, derived["implementations"], list(style)),
        "glance": glance.lines(
            {**derived, "seed_plan": seed_look.summary(settings.seed_looks)}, settings.baseline
        ),
        "speed_chart": figures.speed_chart(derived["speed"], settings.baseline, style)
        if len(ok) and settings.baseline in set(ok["backend"]) and ok["backend"].nunique() > 1
        else None,
        "time_to_accuracy_reached": bool(
            len(derived["time_to_accuracy"])
            and derived["time_to_accuracy"]["training seconds to reach it (median)"].notna().any()
        ),
        "time_to_accuracy": table(derived["time_to_accuracy"], backends=list(style))
        if len(derived["time_to_accuracy"])
        else None,
        "runs": table(tables.runs_table(ok), backends=list(style)),
        "sweeps": sweeps.sweeps(ok, derived["time_to_accuracy"], settings.time_to_accuracy, style),
        "left_to_sweeps": sweeps.left_to_sweeps(ok),
    }


def implementations_context(ok: pd.DataFrame, found: pd.DataFrame, backends) -> dict:
    """What hand-tuning buys (``found``: :mod:`mnistbench.report.implementations`), and the one
    line of each variant run here that has no autograd implementation, and why."""
    variants = [VARIANTS[v] for v in sorted(ok["variant"].unique()) if v in VARIANTS]
    return {
        "implementations": views.implementations(found, backends) if len(found) else None,
        "not_a_gradient": [(v.name, v.not_a_gradient) for v in variants if v.not_a_gradient],
    }


def figures_context(found, ok, settings: Settings, style) -> dict:
    """The learning curves and confusion matrices of the runs with a result, and where each
    backend's confusion matrix differs from the baseline's."""
    keep = ok.set_index(RUN_KEYS).index
    history, confusion = found["history"], found["confusion"]
    history = history[history.set_index(RUN_KEYS).index.isin(keep)]
    confusion = confusion[confusion.set_index(RUN_KEYS).index.isin(keep)]
    # The per-run figures draw a few points as variants of their own (see report/sweeps.py).
    history, confusion = sweeps.for_figures(history, ok), sweeps.for_figures(confusion, ok)
    differences = confusion_views.differences(confusion, settings.baseline)
    identical = differences[differences[confusion_views.CELLS] == 0]
    return {
        "curves": [
            (dataset, variant, figures.learning_curves(runs, style), figures.same_curves(runs))
            for (dataset, variant), runs in sorted(
                history.groupby(["dataset", "variant"]),
                key=lambda group: tuple(map(order.natural, group[0])),
            )
        ],
        "confusions": [
            confusion_views.view(confusion, settings.baseline, style, dataset)
            for dataset in sorted(confusion["dataset"].unique())
        ],
        "differences": table(
            differences[differences[confusion_views.CELLS] > 0], backends=list(style)
        ),
        "identical": order.sorted_naturally(
            f"{v} ({b})" for v, b in zip(identical["variant"], identical["backend"])
        ),
    }


def provenance_context(provenance: pd.DataFrame, ok: pd.DataFrame) -> dict:
    """What produced the runs (code, machines, versions, data) and the variants they ran."""
    origin = tables.provenance_tables(provenance)
    return {
        "origin": {name: table(frame) for name, frame in origin.items()},
        "code": dict(zip(origin["code"]["item"], origin["code"]["value"])),
        "machines": origin["machines"].to_dict("records"),
        "variants": [VARIANTS[v] for v in sorted(ok["variant"].unique()) if v in VARIANTS],
        "used": views.hyperparameters(ok),
    }


def config_texts(configfiles: Sequence[str]) -> list[tuple[str, str]]:
    """(name, contents) of each config file the workflow applied, where it can be read from
    the directory the report step runs in (the workflow's)."""
    found = []
    for name in configfiles:
        try:
            found.append((name, Path(name).read_text(errors="replace").rstrip("\n")))
        except OSError:
            continue
    return found


def not_implemented(ok: pd.DataFrame) -> list[str]:
    """ "variant on backend" for each pair of the runs' variants and backends that the installed
    backend does not implement: planned out, so shown as not implemented, never as a failure."""
    from mnistbench.plugin.registry import load_backends

    backends = load_backends().backends
    return [
        f"{variant} on {backend}"
        for variant in sorted(ok["variant"].unique())
        for backend in sorted(ok["backend"].unique())
        if backend in backends and variant not in backends[backend].variants
    ]


def not_run(path: Path | None):
    """The table of runs the plan left out, each with its reason; None where there is none."""
    if path is None or not Path(path).is_file():
        return None
    frame = read_table(path, ["reason"], dtype=str, keep_default_na=False)
    return table(frame) if len(frame) else None


def run(
    tables_dir: str | Path,
    out: str | Path,
    settings: Settings = Settings(),
    csv_dir: str | Path | None = None,
) -> None:
    """Write the report to ``out`` and, with ``csv_dir``, its derived tables as CSV there."""
    html = render(tables_dir, settings)
    if csv_dir is not None:
        for name, frame in derived_tables(read_tables(tables_dir), settings, tables_dir).items():
            write = lambda p, f=frame: f.to_csv(p, index=False)  # noqa: E731
            artifacts.write_atomically(csv_dir, f"{name}.csv", write)
    artifacts.write_atomically(Path(out).parent, Path(out).name, lambda p: p.write_text(html))
