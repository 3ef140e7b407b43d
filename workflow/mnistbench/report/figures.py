"""The report's figures: learning curves, speed-ups and confusion matrices, as inline SVG.

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
from matplotlib.colors import PowerNorm, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from mnistbench.report import svg

COLOURS = ["#1b6ca8", "#d1495b", "#2e933c", "#8f5db7", "#e08a00", "#4d4d4d"]
MARKERS = ["o", "s", "^", "D", "v", "P"]
LINESTYLES = ["-", "--", ":", "-."]
matplotlib.rcParams["svg.hashsalt"] = "mnistbench"  # the same SVG for the same data
# Figures are drawn about as wide as a phone screen in points, so text stays legible there.
matplotlib.rcParams.update(
    {"font.size": 8, "axes.titlesize": 8.5, "axes.labelsize": 8, "legend.fontsize": 8}
)
WIDTH = 5.6  # inches


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

PANELS = [
    ("epoch", "train_loss", "training loss (mean over the epoch)"),
    ("epoch", "test_accuracy", "test accuracy (fraction)"),
    ("train_s", "train_loss", "training loss (mean over the epoch)"),
    ("train_s", "test_accuracy", "test accuracy (fraction)"),
]


def curve_stats(history: pd.DataFrame) -> pd.DataFrame:
    """Per backend and epoch: mean and sd over seeds of loss, accuracy and training seconds.

    ``train_s`` is the time inside train_epoch summed up to and including the epoch.
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
    """
    return svg.inline(learning_curves_figure(history, style))


def learning_curves_figure(history: pd.DataFrame, style: dict[str, Style]) -> Figure:
    """The figure behind :func:`learning_curves`: a 2 x 2 grid of axes (loss, accuracy) x
    (by epoch, by training seconds)."""
    stats = curve_stats(history)
    backends = [b for b in style if b in set(stats["backend"])]
    fig = Figure(figsize=(WIDTH, 4.6), layout="constrained")
    axes = fig.subplots(2, 2, sharex="col", sharey="row", squeeze=False)
    # rows: loss, accuracy; columns: by epoch, by seconds
    grid = {(x, y): axes[int(y == "test_accuracy"), int(x == "train_s")] for x, y, _ in PANELS}
    drawn: dict[tuple, list] = {}  # bands already drawn per panel: coinciding ones are not stacked
    for i, backend in enumerate(backends):
        curve = stats[stats["backend"] == backend]
        dodge = (i - (len(backends) - 1) / 2) * 0.06  # side by side where backends coincide
        for (x, y), ax in grid.items():
            mean, sd = curve[(y, "mean")], curve[(y, "std")].fillna(0)
            xs = curve[(x, "mean")] if x == "train_s" else curve["epoch"] + dodge
            ax.plot(xs, mean, label=backend, **style[backend].line())
            band = (mean.to_numpy(), sd.to_numpy())
            seen = drawn.setdefault((x, y), [])
            same = any(
                len(m) == len(band[0]) and np.allclose(m, band[0]) and np.allclose(s, band[1])
                for m, s in seen
            )
            if (curve[(y, "count")] > 1).any() and not (x == "epoch" and same):
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
            ax.set_xlabel("epoch" if x == "epoch" else "training seconds (inside train_epoch)")
    seconds = stats[("train_s", "mean")]
    if len(seconds) and seconds.max() > 20 * seconds.min() > 0:
        ax = grid[("train_s", "train_loss")]
        ax.set_xscale("log")  # backends far apart in speed
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        grid[("train_s", "test_accuracy")].set_xlabel("training seconds (log scale)")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    if stats["epoch"].nunique() == 1:  # one epoch: keep the single points off the frame
        grid[("epoch", "train_loss")].set_xlim(0.5, 1.5)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), frameon=False)
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


def speed_chart(speedups: pd.DataFrame, baseline: str, style: dict[str, Style]) -> str:
    """Bars of training speed-up over ``baseline`` per variant and backend, seeds' range."""
    return svg.inline(speed_chart_figure(speedups, baseline, style))


def speed_chart_figure(speedups: pd.DataFrame, baseline: str, style: dict[str, Style]) -> Figure:
    """The figure behind :func:`speed_chart`: one horizontal bar per (variant, backend)."""
    groups = list(speedups.groupby(["dataset", "variant"]))
    datasets = speedups["dataset"].nunique()
    backends = [b for b in style if b in set(speedups["backend"]) and b != baseline]
    height = 0.8 / max(1, len(backends))
    fig = Figure(
        figsize=(WIDTH, 0.9 + 0.17 * len(groups) * max(1, len(backends))), layout="constrained"
    )
    ax = fig.subplots()
    for i, backend in enumerate(backends):
        rows = []
        for g, (_, runs) in enumerate(groups):
            mine = runs[runs["backend"] == backend].dropna(subset=["train_speedup"])
            if len(mine):
                # the bar as in the table (ratio of medians), the whisker over single seeds
                bar = mine["baseline_epoch_seconds"].iloc[0] / mine["epoch_seconds"].median()
                rows.append((g, bar, mine["train_speedup"].min(), mine["train_speedup"].max()))
        if not rows:
            continue
        g, median, low, high = map(np.array, zip(*rows))
        y = g + (i - (len(backends) - 1) / 2) * height
        # bars grow from 1x: right of the line is faster than the baseline, left is slower
        ax.barh(
            y,
            median - 1,
            left=1,
            height=height * 0.9,
            color=style[backend].colour,
            label=backend,
        )
        ax.errorbar(median, y, xerr=[median - low, high - median], fmt="none", ecolor="#222")
    ax.axvline(1, color="#222", linewidth=1, label=f"{baseline} (1×)")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.set_yticks(range(len(groups)), [v if datasets == 1 else f"{d}\n{v}" for (d, v), _ in groups])
    ax.invert_yaxis()
    ax.set_xlabel(f"training speed-up over {baseline} (×, log scale)")
    ax.grid(axis="x", alpha=0.3, which="both")
    fig.legend(loc="outside upper center", ncols=len(backends) + 1, frameon=False)
    return fig


# Confusion matrices ---------------------------------------------------------------------------


def normalised_confusions(confusion: pd.DataFrame) -> dict[tuple[str, str, str], np.ndarray]:
    """Per (dataset, variant, backend): the fraction of each true class predicted as each class.

    Counts are summed over seeds before dividing, so every test image weighs the same.
    """
    out = {}
    for key, run in confusion.groupby(["dataset", "variant", "backend"]):
        counts = run.pivot_table(index="true", columns="predicted", values="count", aggfunc="sum")
        counts = counts.to_numpy(dtype=float)
        out[key] = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return out


CELLS = "cells that differ (of the 100)"
LARGEST = "largest difference (fraction of the true class)"


def differences(confusion: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per (dataset, variant, backend): how many confusion cells differ from the baseline's.

    Compares counts summed over seeds; ``largest`` is the largest difference in the fraction of
    a true class. Rows only where the baseline has the same dataset and variant.
    """
    matrices, rows = normalised_confusions(confusion), []
    for (dataset, variant, backend), matrix in matrices.items():
        base = matrices.get((dataset, variant, baseline))
        if backend == baseline or base is None or base.shape != matrix.shape:
            continue
        diff = matrix - base
        rows.append(
            {
                "dataset": dataset,
                "variant": variant,
                "backend": backend,
                CELLS: int(np.count_nonzero(np.abs(diff) > 1e-12)),
                LARGEST: float(np.abs(diff).max()),
            }
        )
    return pd.DataFrame(rows, columns=["dataset", "variant", "backend", CELLS, LARGEST])


def same_curves(history: pd.DataFrame) -> list[list[str]]:
    """Groups of two or more backends whose every seed has the same accuracy at every epoch.

    Their lines coincide in the by-epoch panels; the report names them under the figure.
    """
    signatures: dict[tuple, list[str]] = {}
    for backend, runs in history.groupby("backend"):
        runs = runs.sort_values(["seed", "epoch"])
        key = tuple(zip(runs["seed"], runs["epoch"], runs["test_accuracy"].round(9)))
        signatures.setdefault(key, []).append(backend)
    return [sorted(group) for group in signatures.values() if len(group) > 1]


def _matrix_grid(keys: Sequence[tuple[str, str]], columns: Sequence[str]):
    size = min(1.6, (WIDTH - 0.8) / len(columns))
    fig = Figure(figsize=(size * len(columns) + 0.8, size * len(keys) + 0.5), layout="constrained")
    axes = fig.subplots(len(keys), len(columns), squeeze=False)
    for r, (_, variant) in enumerate(keys):
        for c, column in enumerate(columns):
            ax = axes[r, c]
            ax.set_xticks(range(10))
            ax.set_yticks(range(10))
            ax.tick_params(labelsize=6, length=0)
            if r == 0:
                ax.set_title(column, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{variant}\ntrue class", fontsize=8)
            if r == len(keys) - 1:
                ax.set_xlabel("predicted class", fontsize=8)
    return fig, axes


def confusion_grid(confusion: pd.DataFrame, style: dict[str, Style], dataset: str) -> str:
    """Every (variant, backend) of ``dataset`` as a small multiple on one shared colour scale."""
    return svg.inline(confusion_grid_figure(confusion, style, dataset))


def confusion_grid_figure(confusion: pd.DataFrame, style: dict[str, Style], dataset: str) -> Figure:
    """The figure behind :func:`confusion_grid`: rows of variants, columns of backends."""
    matrices = normalised_confusions(confusion[confusion["dataset"] == dataset])
    variants = sorted({v for _, v, _ in matrices})
    backends = [b for b in style if any(k[2] == b for k in matrices)]
    fig, axes = _matrix_grid([(dataset, v) for v in variants], backends)
    # gamma < 1 stretches the low end, where the mistakes are: 1 % of a class is visible
    norm, image = PowerNorm(gamma=0.35, vmin=0, vmax=1), None
    for r, variant in enumerate(variants):
        for c, backend in enumerate(backends):
            matrix = matrices.get((dataset, variant, backend))
            if matrix is None:
                axes[r, c].set_visible(False)
                continue
            image = axes[r, c].imshow(matrix, cmap="Blues", norm=norm)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.5, aspect=30)
        bar.set_label("fraction of the true class (rows sum to 1)", fontsize=8)
        bar.set_ticks([0, 0.01, 0.05, 0.2, 0.5, 1])
        bar.ax.tick_params(labelsize=7)
    return fig


def difference_grid(confusion: pd.DataFrame, baseline: str, style, dataset: str) -> str | None:
    """Where another backend's confusion matrix differs from the baseline's, one panel each.

    Cells show the difference in percentage points of the true class, on one shared diverging
    scale (white: they agree). Pairs that agree everywhere get no panel (the report lists them);
    None when no pair differs.
    """
    fig = difference_grid_figure(confusion, baseline, style, dataset)
    return None if fig is None else svg.inline(fig)


def difference_grid_figure(confusion: pd.DataFrame, baseline: str, style, dataset: str):
    """The figure behind :func:`difference_grid` (a Figure), or None when no pair differs."""
    matrices = normalised_confusions(confusion[confusion["dataset"] == dataset])
    panels = []
    for (_, variant, backend), matrix in sorted(matrices.items(), key=lambda kv: kv[0][1]):
        base = matrices.get((dataset, variant, baseline))
        if backend != baseline and base is not None and np.abs(matrix - base).max() > 1e-12:
            panels.append((variant, backend, (matrix - base) * 100))
    if not panels:
        return None
    order = {b: i for i, b in enumerate(style)}
    panels.sort(key=lambda p: (p[0], order.get(p[1], 0)))
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    # panels as large as the confusion matrices' small multiples, however few there are
    fig = Figure(figsize=(0.9 + 2.6 * columns, 0.5 + 2.8 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    limit = max(0.5, *(float(np.abs(d).max()) for _, _, d in panels))
    norm, image = TwoSlopeNorm(vcenter=0, vmin=-limit, vmax=limit), None
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (variant, backend, diff) in zip(axes.flat, panels):
        image = ax.imshow(diff, cmap="bwr", norm=norm)  # pure white where the two agree
        ax.set_title(f"{variant}\n{backend} − {baseline}")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.tick_params(labelsize=6, length=0)
        ax.set_xlabel("predicted class", fontsize=7)
        ax.set_ylabel("true class", fontsize=7)
    bar = fig.colorbar(image, ax=axes, shrink=0.8, aspect=30)
    bar.set_label("percentage points of the true class")
    return fig
