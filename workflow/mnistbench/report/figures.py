"""The report's figures: learning curves and speed-ups, as inline SVG (confusion matrices:
:mod:`mnistbench.report.confusion`).

Matplotlib's object API (``Figure``), never pyplot: no global state and no display backend, so
figures are made the same way in a job, a test or a notebook. Each backend keeps one colour,
marker and line style in every figure, so lines that coincide (backends that compute the same
numbers) stay distinguishable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from mnistbench.report import order, svg
from mnistbench.report.tables import SPEEDUP

# Okabe and Ito's colour-blind-safe palette; each colour also has its own marker and dashes.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P"]
LINESTYLES = ["-", "--", ":", "-."]
matplotlib.rcParams["svg.hashsalt"] = "mnistbench"  # the same SVG for the same data
# A panel is drawn no wider than a phone's column (PANEL, 3.6 in: 346 CSS px; 390 px screens
# leave about 360), so the page never shrinks it there: 9-point text stays 12 CSS px or more.
# Figures of several panels put them in a column, or the page stacks them.
matplotlib.rcParams.update(
    {
        "font.size": 9,
        "axes.titlesize": 9,
        "axes.labelsize": 9,
        "legend.fontsize": 9,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
    }
)
PANEL = 3.6  # inches
# A legend entry's width at 9 points, in inches: its handle and gaps, and each character.
LEGEND_ENTRY, LEGEND_CHARACTER = 0.6, 0.07


def legend_columns(labels: Sequence[str], width: float) -> int:
    """The most legend columns (at most 3) whose entries fit a figure ``width`` inches wide:
    a figure legend is not shrunk to fit, and one wider than its figure is cut at the edge."""
    for columns in range(min(3, len(labels)), 1, -1):
        # matplotlib fills columns in order, the first len % columns of them one entry longer
        sizes = [len(labels) // columns + (i < len(labels) % columns) for i in range(columns)]
        starts = np.cumsum([0, *sizes])
        longest = [max(len(label) for label in labels[a:b]) for a, b in zip(starts, starts[1:])]
        if sum(LEGEND_ENTRY + LEGEND_CHARACTER * n for n in longest) <= width:
            return columns
    return 1


WIDTH = 5.6  # inches: the confusion grids (mnistbench.report.confusion)


@dataclass(frozen=True)
class Style:
    colour: str
    marker: str
    linestyle: str

    def line(self) -> dict:
        return {
            "color": self.colour,
            "marker": self.marker,
            "linestyle": self.linestyle,
            "markerfacecolor": "white",  # hollow markers: one atop another still shows both
            "markersize": 5,
        }


def styles(backends: Sequence[str], baseline: str) -> dict[str, Style]:
    """One style per backend, the baseline first, the rest in name order."""
    ordered = sorted(set(backends), key=lambda b: (b != baseline, b))
    return {
        b: Style(COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)], LINESTYLES[i % 4])
        for i, b in enumerate(ordered)
    }


# Learning curves ------------------------------------------------------------------------------

LOSS, ACCURACY = "training loss (epoch mean)", "test accuracy (fraction)"
SECONDS = "training s"
PANELS = [
    ("epoch", "train_loss", LOSS),
    ("epoch", "test_accuracy", ACCURACY),
    ("train_s", "train_loss", LOSS),
    ("train_s", "test_accuracy", ACCURACY),
]


def curve_stats(history: pd.DataFrame) -> pd.DataFrame:
    """Per backend and epoch: mean and sd over seeds of loss, accuracy and training seconds.

    ``train_s`` is the time inside train_epoch summed up to and including the epoch, scored or
    not; an epoch that did not score the test set (see ``curve_points``) has an accuracy count
    of 0.
    """
    history = history.sort_values(["backend", "seed", "epoch"])
    history = history.assign(
        train_s=history.groupby(["backend", "seed"])["seconds"].cumsum(),
    )
    stats = history.groupby(["backend", "epoch"])[["train_loss", "test_accuracy", "train_s"]]
    return stats.agg(["mean", "std", "count"]).reset_index()


def learning_curves(history: pd.DataFrame, style: dict[str, Style]) -> str:
    """Loss and accuracy of one (dataset, variant), by epoch and by training seconds.

    One line per backend: the mean over seeds, with a band of ± one sd where there are several.
    Accuracy lines join the epochs that scored the test set, one marker each: an unscored epoch
    gets no point.
    """
    return svg.inline(learning_curves_figure(history, style))


def learning_curves_figure(history: pd.DataFrame, style: dict[str, Style]) -> Figure:
    """The figure behind :func:`learning_curves`: a 2 x 2 grid of axes (loss, accuracy) x
    (by epoch, by training seconds)."""
    stats = curve_stats(history)
    backends = [b for b in style if b in set(stats["backend"])]
    fig = Figure(figsize=(PANEL, 4.8), layout="constrained")
    axes = fig.subplots(2, 2, sharex="col", sharey="row", squeeze=False)
    # rows: loss, accuracy; columns: by epoch, by seconds
    grid = {(x, y): axes[int(y == "test_accuracy"), int(x == "train_s")] for x, y, _ in PANELS}
    drawn: dict[tuple, list] = {}  # bands already drawn per panel: coinciding ones are not stacked
    for i, backend in enumerate(backends):
        curve = stats[stats["backend"] == backend]
        dodge = (i - (len(backends) - 1) / 2) * 0.06  # side by side where backends coincide
        for (x, y), ax in grid.items():
            points = curve[curve[(y, "count")] > 0]  # epochs with a value: scored, not diverged
            mean, sd = points[(y, "mean")], points[(y, "std")].fillna(0)
            xs = points[(x, "mean")] if x == "train_s" else points["epoch"] + dodge
            ax.plot(xs, mean, label=backend, **style[backend].line())
            band = (mean.to_numpy(), sd.to_numpy())
            seen = drawn.setdefault((x, y), [])
            same = any(
                len(m) == len(band[0]) and np.allclose(m, band[0]) and np.allclose(s, band[1])
                for m, s in seen
            )
            if (points[(y, "count")] > 1).any() and not (x == "epoch" and same):
                ax.fill_between(xs, mean - sd, mean + sd, color=style[backend].colour, alpha=0.15)
            seen.append(band)
    for x, y, label in PANELS:
        ax = grid[(x, y)]
        ax.grid(alpha=0.3)
        if x == "epoch":
            ax.set_ylabel(label)
            # min_n_ticks=1: a one-epoch run gets the tick 1, not fractions of an epoch
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        _readable_range(ax)
        if y == "test_accuracy":
            ax.set_xlabel("epoch" if x == "epoch" else SECONDS)
    seconds = stats[("train_s", "mean")]
    if len(seconds) and seconds.max() > 20 * seconds.min() > 0:
        ax = grid[("train_s", "train_loss")]
        ax.set_xscale("log")  # backends far apart in speed
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        grid[("train_s", "test_accuracy")].set_xlabel("training s (log scale)")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    if stats["epoch"].nunique() == 1:  # one epoch: keep the single points off the frame
        grid[("epoch", "train_loss")].set_xlim(0.5, 1.5)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    columns = legend_columns(labels, fig.get_figwidth())
    fig.legend(handles, labels, loc="outside upper center", ncols=columns, frameon=False)
    return fig


def _readable_range(ax) -> None:
    """Plain tick labels, and at least 2 % of the values' size on the y axis, so that backends
    agreeing to the seventh digit are not drawn as far apart under a "1e-8 + 0.643" offset."""
    ax.yaxis.get_major_formatter().set_useOffset(False)
    low, high = ax.get_ylim()
    middle, least = (low + high) / 2, 0.02 * max(abs(low), abs(high), 1e-12)
    if high - low < least:
        ax.set_ylim(middle - least / 2, middle + least / 2)


# Speed ----------------------------------------------------------------------------------------

TICKS = [v * 10.0**e for e in range(-3, 4) for v in (1, 2, 5)]  # 0.5×, 1×, 2×, 5×, 10×...
MOST_TICKS = 5  # more, on a panel's width, and their labels run into each other


def log_ratio_axis(ax, values: Sequence[float]) -> None:
    """A log x axis of ratios, 1× in view, ticks at 1, 2 and 5 of each decade (at each decade
    alone where that would be more than :data:`MOST_TICKS`), labelled ``2×``."""
    values = [v for v in values if np.isfinite(v) and v > 0] + [1.0]
    low, high = min(values) / 1.25, max(values) * 1.25
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    shown = [t for t in TICKS if low <= t <= high]
    if len(shown) > MOST_TICKS:
        shown = [t for t in shown if float(np.log10(t)).is_integer()]
    ax.xaxis.set_major_locator(FixedLocator(shown))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def speed_chart(speed: pd.DataFrame, baseline: str, style: dict[str, Style]) -> str:
    """Each backend's training speed-up over ``baseline`` per variant (and point), with its 95%
    interval; the exact values on hover (an SVG ``<title>`` per point)."""
    fig, titles = speed_chart_figure(speed, baseline, style)
    return svg.inline(fig, titles)


def speed_chart_figure(
    speed: pd.DataFrame, baseline: str, style: dict[str, Style]
) -> tuple[Figure, dict[str, str]]:
    """The figure behind :func:`speed_chart`, from the report's speed table: one row per
    dataset, variant and point, one marker per backend at its ratio of medians, the whisker its
    95% interval (none where one run a side allows no interval); and each marker's hover text."""
    speedup = SPEEDUP.format(baseline)
    rows = speed[speed["backend"] != baseline].dropna(subset=[speedup])
    groups = order.sorted_rows(rows[["dataset", "variant", "point"]].drop_duplicates())
    groups = list(groups.itertuples(index=False, name=None))
    backends = [b for b in style if b in set(rows["backend"])]
    datasets = rows["dataset"].nunique()
    step = 0.8 / max(1, len(backends))
    fig = Figure(figsize=(PANEL, 1.2 + 0.28 * len(groups) * max(1, len(backends))))
    fig.set_layout_engine("constrained")
    ax = fig.subplots()
    low_name, high_name = (
        f"train speed-up {end} (×)" for end in ("95% interval, low", "95% interval, high")
    )
    titles, values, labelled = {}, [], set()
    for i, backend in enumerate(backends):
        for g, (dataset, variant, point) in enumerate(groups):
            mine = rows[
                (rows["backend"] == backend)
                & (rows["dataset"] == dataset)
                & (rows["variant"] == variant)
                & (rows["point"] == point)
            ]
            for _, row in mine.iterrows():
                y = g + (i - (len(backends) - 1) / 2) * step
                low, high, ratio = row.get(low_name), row.get(high_name), row[speedup]
                values += [ratio, low, high]
                if pd.notna(low) and pd.notna(high):
                    ax.plot([low, high], [y, y], color=style[backend].colour, linewidth=1.6)
                (point_,) = ax.plot(
                    [ratio],
                    [y],
                    label=None if backend in labelled else backend,
                    **{**style[backend].line(), "linestyle": "none", "markersize": 6},
                )
                labelled.add(backend)
                gid = f"speed-{i}-{g}-{len(titles)}"
                point_.set_gid(gid)
                spread = (
                    f", 95% interval {low:.2f}–{high:.2f}×"
                    if pd.notna(low) and pd.notna(high)
                    else ", one run: no interval"
                )
                titles[gid] = f"{backend}, {_group_label(dataset, variant, point, datasets)}: " + (
                    f"{ratio:.3g}× {baseline}'s speed{spread}"
                )
    ax.axvline(1, color="#222", linewidth=1, label=f"{baseline} (1×)")
    log_ratio_axis(ax, values)
    labels = [_group_label(d, v, p, datasets) for d, v, p in groups]
    ax.set_yticks(range(len(groups)), labels)
    ax.set_ylim(len(groups) - 0.5, -0.5)
    # under the axis' right end: long variant labels push the axis right, and a centred label
    # wider than the axis would run off the figure's edge
    ax.set_xlabel(f"training speed-up over {baseline} (log)", loc="right")
    ax.grid(axis="x", alpha=0.3)
    entries = [*backends, f"{baseline} (1×)"]
    columns = legend_columns(entries, fig.get_figwidth())
    fig.legend(loc="outside upper center", ncols=columns, frameon=False)
    return fig, titles


def _group_label(dataset: str, variant: str, point: str, datasets: int) -> str:
    label = variant if point == "default" else f"{variant}\n{point}"
    return f"{dataset}: {label}" if datasets > 1 else label


# Learning curves that coincide --------------------------------------------------------------


def same_curves(history: pd.DataFrame) -> list[list[str]]:
    """Groups of two or more backends whose every seed has the same accuracy at every scored
    epoch (and the same epochs scored).

    Their lines coincide in the by-epoch panels; the report names them under the figure.
    """
    signatures: dict[tuple, list[str]] = {}
    for backend, runs in history.groupby("backend"):
        runs = runs.dropna(subset=["test_accuracy"]).sort_values(["seed", "epoch"])
        key = tuple(zip(runs["seed"], runs["epoch"], runs["test_accuracy"].round(9)))
        if key:  # no scored epoch: no accuracy line to coincide with
            signatures.setdefault(key, []).append(backend)
    return [sorted(group) for group in signatures.values() if len(group) > 1]
