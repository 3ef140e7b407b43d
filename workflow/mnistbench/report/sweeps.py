"""The report's sweep section: every backend drawn against each swept setting of a variant.

For each dataset and variant with more than one point, one figure per swept setting (its axis):
test accuracy, train seconds per epoch and training throughput against the setting's value, one
line per backend (the mean over seeds, error bars one sd), on a log axis where the values span
10x or more. Where the variant sweeps other settings too, each of their combinations is its own
line (dashes) up to :data:`MAX_LINES`; beyond that one line per backend is the median over them.
Then the best point per backend, by accuracy and by time to the variant's target accuracy.

Per-run figures elsewhere in the report (learning curves, confusion matrices, speed-ups) draw a
swept variant's points as variants of their own (:func:`for_figures`) while it has at most
:data:`FIGURE_POINTS` of them; beyond, this section is their summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from mnistbench.plan.points import DEFAULT
from mnistbench.report import figures, svg
from mnistbench.report.aggregate import RUN_KEYS, SUMMARY_COLUMNS, with_point
from mnistbench.report.html import Table, table
from mnistbench.report.order import natural
from mnistbench.report.tables import with_derived

FIGURE_POINTS = 4  # at most this many points per variant in the per-run figures
MAX_LINES = 4  # combinations of the other swept settings drawn as lines of their own
PANELS = [
    ("test_accuracy", "test accuracy (fraction)"),
    ("epoch_seconds", "train s/epoch"),
    ("samples_per_second", "throughput (images/s)"),
]


@dataclass(frozen=True)
class Sweep:
    """One swept variant on one dataset, as the page shows it."""

    dataset: str
    variant: str
    axes: list[str]
    points: int
    backends: list[str]
    figures: list[tuple[str, str]]  # (axis, inline SVG)
    best: Table


def setting_columns(summary: pd.DataFrame) -> list[str]:
    """The summary's point columns (one per swept setting), ``device`` where it is swept."""
    own = [c for c in summary.columns if c not in SUMMARY_COLUMNS and c not in RUN_KEYS]
    swept_device = summary.groupby(["dataset", "variant", "backend"])["device"].nunique()
    return own + (["device"] if (swept_device > 1).any() else [])


def axes_of(runs: pd.DataFrame, settings: list[str]) -> list[str]:
    """The settings that take more than one value among one variant's runs."""
    return [s for s in settings if s in runs and runs[s].dropna().nunique() > 1]


def for_figures(frame: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s rows for the per-run figures: a point's runs labelled ``variant (point)``,
    variants with more than :data:`FIGURE_POINTS` points left to the sweep section."""
    frame, summary = with_point(frame), with_point(summary)
    counts = summary.groupby(["dataset", "variant"])["point"].nunique()
    many = counts[counts > FIGURE_POINTS].index
    frame = frame[~frame.set_index(["dataset", "variant"]).index.isin(many)]
    label = np.where(
        frame["point"] == DEFAULT, frame["variant"], frame["variant"] + " (" + frame["point"] + ")"
    )
    return frame.assign(variant=label)


def left_to_sweeps(summary: pd.DataFrame) -> list[str]:
    """Variants whose points only the sweep section shows."""
    counts = with_point(summary).groupby("variant")["point"].nunique()
    return sorted(counts[counts > FIGURE_POINTS].index)


def _is_log(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return len(numbers) == len(values) and numbers.min() > 0 and numbers.max() >= 10 * numbers.min()


def _lines(
    runs: pd.DataFrame, axis: str, others: list[str], backends: list[str]
) -> list[tuple[str, str, pd.DataFrame]]:
    """(backend, label of the other settings, the line's points: mean and sd per axis value),
    the backends in ``backends``' order."""
    combos = runs[others].drop_duplicates() if others else pd.DataFrame(index=[0])
    split = bool(others) and len(combos) <= MAX_LINES
    lines = []
    for backend in [b for b in backends if b in set(runs["backend"])]:
        own = runs[runs["backend"] == backend]
        groups = own.groupby(others, dropna=False) if split else [("", own)]
        for key, rows in groups:
            per_seed = rows
            if not split and others:  # the median over the other settings, per seed
                per_seed = rows.groupby([axis, "seed"])[[p for p, _ in PANELS]].median()
                per_seed = per_seed.reset_index()
            stats = per_seed.groupby(axis)[[p for p, _ in PANELS]].agg(["mean", "std"])
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{o}={v}" for o, v in zip(others, key)) if split else ""
            lines.append((backend, label, stats))
    return lines


def sweep_figure(
    runs: pd.DataFrame, axis: str, others: list[str], style, titles: dict | None = None
) -> Figure:
    """Accuracy, s/epoch and throughput against ``axis``, one line per backend (and other
    settings' combination), the panels in a column a phone's width. Fills ``titles`` (gid to
    text) with each point's exact values, for :func:`mnistbench.report.svg.inline`."""
    titles = {} if titles is None else titles
    fig = Figure(figsize=(figures.PANEL, 1.0 + 1.7 * len(PANELS)), layout="constrained")
    panels = fig.subplots(len(PANELS), 1, sharex=True, squeeze=False)[:, 0]
    categorical = not pd.api.types.is_numeric_dtype(runs[axis])
    order = sorted(runs[axis].dropna().unique(), key=natural if categorical else float)
    dashes = {}
    for backend, label, stats in _lines(runs, axis, others, list(style)):
        xs = [order.index(v) for v in stats.index] if categorical else stats.index.to_numpy()
        line = style[backend].line()
        line["linestyle"] = figures.LINESTYLES[dashes.setdefault(label, len(dashes)) % 4]
        name = f"{backend} {label}".strip()
        for ax, (column, title) in zip(panels, PANELS):
            mean, sd = stats[(column, "mean")], stats[(column, "std")].fillna(0)
            ax.errorbar(xs, mean, yerr=sd, label=name, capsize=2, **line)
            for x, value, m, s in zip(xs, stats.index, mean, sd):  # one hover text a point
                (point,) = ax.plot([x], [m], **{**line, "linestyle": "none"})
                point.set_gid(f"p{len(titles)}")
                titles[f"p{len(titles)}"] = f"{name}, {axis} {value}: {title} {m:.4g} (sd {s:.2g})"
    for ax, (column, title) in zip(panels, PANELS):
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if categorical:
            ax.set_xticks(range(len(order)), [str(v) for v in order])
        elif _is_log(runs[axis]):
            ax.set_xscale("log")
            ax.set_xticks([float(v) for v in order])
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        if column == "samples_per_second" and _is_log(runs[column].dropna()):
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
    log = not categorical and _is_log(runs[axis])
    panels[-1].set_xlabel(axis + (" (log scale)" if log else ""))
    handles, labels = panels[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 2))
    return fig


def best_points(runs: pd.DataFrame, history_seconds: pd.DataFrame | None) -> pd.DataFrame:
    """Per backend: the point of highest mean accuracy, and of least time to the target."""
    means = runs.groupby(["backend", "point"])["test_accuracy"].mean().reset_index()
    rows = []
    for backend, own in means.groupby("backend"):
        top = own.loc[own["test_accuracy"].idxmax()]
        row = {
            "backend": backend,
            "best point by accuracy": top["point"],
            "test accuracy (fraction, mean over seeds)": top["test_accuracy"],
        }
        if history_seconds is not None:
            reached = history_seconds[history_seconds["backend"] == backend].dropna()
            fastest = reached.loc[reached["seconds"].idxmin()] if len(reached) else None
            row["best point by time to accuracy"] = "" if fastest is None else fastest["point"]
            row["training seconds to reach the target (median)"] = (
                np.nan if fastest is None else fastest["seconds"]
            )
        rows.append(row)
    return pd.DataFrame(rows)


def sweeps(
    summary: pd.DataFrame, to_accuracy: pd.DataFrame, targets: Mapping[str, float], style
) -> list[Sweep]:
    """The sweep section: one :class:`Sweep` per dataset and variant with several points."""
    summary = with_point(summary)
    settings = setting_columns(summary)
    summary = with_derived(summary)
    found = []
    for (dataset, variant), runs in summary.groupby(["dataset", "variant"]):
        if runs["point"].nunique() < 2:
            continue
        axes = axes_of(runs, settings)
        drawn = []
        for axis in axes:
            titles: dict[str, str] = {}
            fig = sweep_figure(runs, axis, [a for a in axes if a != axis], style, titles)
            drawn.append((axis, svg.inline(fig, titles)))
        seconds = None
        if variant in targets and len(to_accuracy):
            mine = to_accuracy[
                (to_accuracy["dataset"] == dataset) & (to_accuracy["variant"] == variant)
            ]
            seconds = mine.rename(columns={"training seconds to reach it (median)": "seconds"})
        found.append(
            Sweep(
                dataset,
                variant,
                axes,
                int(runs["point"].nunique()),
                [b for b in style if b in set(runs["backend"])],
                drawn,
                table(best_points(runs, seconds), backends=list(style)),
            )
        )
    return found
