"""The report's confusion views: the matrices, where backends' matrices differ, a row per class.

At MNIST's 10 classes every (variant, backend) is a small multiple with every class ticked. At
26 or 47 classes a matrix that small is a blur on a phone, so panels grow with the classes (at
least :data:`CELL` inches a class: five pixels or more at 390 px), as many to a row as fit;
where the backends no longer fit side by side, each variant shows one backend's matrix (the
baseline's, else the first) and the others appear as differences from it. Ticks are labelled
every 1, 2, 5 or 10 classes, whichever keeps the labels apart. A table of classes
(:mod:`mnistbench.report.per_class`) says the same in numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import PowerNorm, TwoSlopeNorm
from matplotlib.figure import Figure

from mnistbench.report import order as natural
from mnistbench.report import svg
from mnistbench.report.figures import WIDTH, Style
from mnistbench.report.html import table
from mnistbench.report.per_class import per_class

CELL = 0.08  # inches a class takes, at least, in a matrix
SMALL = 1.6  # inches: the side of a small multiple at MNIST's 10 classes
ROOM = WIDTH - 0.8  # inches for panels beside the row labels and colour bar
DIFFERENCE = 2.6  # inches: the side of a difference panel at MNIST's 10 classes
LABEL_GAP = 0.16  # inches between labelled ticks, so 9-point numbers stay apart
TEXT = 9  # points: every label, 12 CSS px where the figure shows at its natural size
CELLS = "cells that differ (of classes²)"
LARGEST = "largest difference (fraction of the true class)"


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


def panel_side(classes: int, columns: int) -> float:
    """Inches a side for a matrix of ``classes``, ``columns`` wanted to a row: MNIST's small
    multiples (at most :data:`SMALL`, shared out over the row) where :data:`SMALL` leaves each
    class :data:`CELL` inches, else as large as that needs (at most a row)."""
    if classes * CELL <= SMALL:
        return min(SMALL, ROOM / columns)
    return min(ROOM, classes * CELL)


def tick_classes(ax, classes: int, side: float) -> None:
    """A tick at every class, labelled every 1, 2, 5, 10... classes, labels at least
    :data:`LABEL_GAP` inches apart."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if side / classes * s >= LABEL_GAP)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_ticks(range(0, classes, step))
        if step > 1:
            axis.set_ticks(range(classes), minor=True)
    ax.tick_params(labelsize=TEXT, length=0, which="both")


def confusion_grid(confusion: pd.DataFrame, style: dict[str, Style], dataset: str) -> str:
    """Every (variant, backend) of ``dataset`` on one shared colour scale (see the module)."""
    return svg.inline(confusion_grid_figure(confusion, style, dataset))


def layout(matrices: dict, dataset: str, style: dict[str, Style]):
    """The grid's panels (variant, backend), columns, panel side and whether every backend is
    shown: rows of variants by columns of backends where they fit side by side; else one
    matrix per variant, the first backend in ``style``'s order that has it (the baseline)."""
    variants = natural.sorted_naturally({v for d, v, _ in matrices if d == dataset})
    backends = [b for b in style if any(k[0] == dataset and k[2] == b for k in matrices)]
    classes = len(next(m for k, m in matrices.items() if k[0] == dataset))
    side = panel_side(classes, len(backends))
    if side * len(backends) <= ROOM:
        rows = [_distinct(matrices, dataset, v, backends) for v in variants]
        if not any(SAME in label for row in rows for label in row):  # a column per backend
            return [(v, b) for v in variants for b in backends], len(backends), side, True
        columns = max(map(len, rows))
        panels = [(v, row[i] if i < len(row) else None) for v, row in zip(variants, rows)
                  for i in range(columns)]  # fmt: skip
        return panels, columns, side, True
    side = panel_side(classes, 1)
    panels = [(v, next(b for b in backends if (dataset, v, b) in matrices)) for v in variants]
    return panels, max(1, min(len(panels), int(ROOM // side))), side, False


SAME = " = "  # joins the backends whose matrices are identical: drawn once, so labelled


def _distinct(matrices: dict, dataset: str, variant: str, backends: list[str]) -> list[str]:
    """The variant's backends with a matrix, those with identical matrices joined by
    :data:`SAME` into one label (``numpy = torch``), in ``backends``' order."""
    groups: list[list[str]] = []
    for backend in backends:
        matrix = matrices.get((dataset, variant, backend))
        if matrix is None:
            continue
        same = next(
            (g for g in groups if np.array_equal(matrices[(dataset, variant, g[0])], matrix)), None
        )
        (same.append(backend) if same else groups.append([backend]))
    return [SAME.join(group) for group in groups]


def confusion_grid_figure(confusion: pd.DataFrame, style: dict[str, Style], dataset: str) -> Figure:
    """The figure behind :func:`confusion_grid`: rows of variants, columns of backends, or one
    backend's matrix per variant, as many to a row as fit (:func:`layout`)."""
    matrices = normalised_confusions(confusion[confusion["dataset"] == dataset])
    panels, columns, side, every_backend = layout(matrices, dataset, style)
    fig, axes = _grid(len(panels), columns, side)
    norm, image = PowerNorm(gamma=0.35, vmin=0, vmax=1), None  # a 1 % confusion shows
    for ax, (variant, backend) in zip(axes.flat, panels):
        first = backend.split(SAME)[0] if backend else None
        matrix = matrices.get((dataset, variant, first))
        if matrix is None:
            ax.set_visible(False)
            continue
        image = ax.imshow(matrix, cmap="Blues", norm=norm)
        tick_classes(ax, len(matrix), side)
    _label(axes, panels, every_backend)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.5, aspect=30)
        bar.set_label("fraction of the true class (rows sum to 1)", fontsize=TEXT)
        bar.set_ticks([0, 0.01, 0.05, 0.2, 0.5, 1])
        bar.ax.tick_params(labelsize=TEXT)
    return fig


def _grid(panels: int, columns: int, side: float, title: float = 0.0, margin: float = 0.8):
    """A figure of ``panels`` square axes, ``columns`` to a row, ``title`` inches above each and
    ``margin`` inches beside them; the unused ones hidden."""
    rows = -(-panels // columns)
    fig = Figure(
        figsize=(margin + side * columns, 0.5 + (side + title) * rows), layout="constrained"
    )
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)
    return fig, axes


def _label(axes, panels: Sequence[tuple[str, str]], every_backend: bool) -> None:
    """Titles and axis labels: backends over columns and variants on rows where every backend
    is shown; else each panel titled with its variant and backend."""
    columns = axes.shape[1]
    # a column is one backend's only where no row drew two backends' identical matrices once
    by_column = not any(backend and SAME in backend for _, backend in panels)
    for i, (ax, (variant, backend)) in enumerate(zip(axes.flat, panels)):
        row, column = divmod(i, columns)
        if every_backend:
            if row == 0 and by_column:
                ax.set_title(backend, fontsize=TEXT)
            elif backend and not by_column:  # each panel names its variant and backends
                ax.set_title(f"{variant}\n{backend}", fontsize=TEXT)  # a = b: identical
            if column == 0:
                variant_label = f"{variant}\n" if by_column else ""
                ax.set_ylabel(f"{variant_label}true class", fontsize=TEXT)
        else:
            ax.set_title(f"{variant} ({backend})", fontsize=TEXT)
            if column == 0:
                ax.set_ylabel("true class", fontsize=TEXT)
        if i + columns >= len(panels):  # nothing below it
            ax.set_xlabel("predicted class", fontsize=TEXT)


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
    for (_, variant, backend), matrix in matrices.items():
        base = matrices.get((dataset, variant, baseline))
        if backend != baseline and base is not None and np.abs(matrix - base).max() > 1e-12:
            panels.append((variant, backend, (matrix - base) * 100))
    if not panels:
        return None
    rank = {b: i for i, b in enumerate(style)}
    panels.sort(key=lambda p: (natural.natural(p[0]), rank.get(p[1], len(rank))))
    classes = len(panels[0][2])
    # as large as a confusion matrix's small multiple however few there are, larger for more
    # classes, in rows as wide as three of those (the figure shows at its natural size)
    side = max(DIFFERENCE, classes * CELL)
    columns = max(1, min(3, len(panels), int(3 * DIFFERENCE // side)))
    fig, axes = _grid(len(panels), columns, side, title=0.2, margin=0.9)
    limit = max(0.5, *(float(np.abs(d).max()) for _, _, d in panels))
    norm, image = TwoSlopeNorm(vcenter=0, vmin=-limit, vmax=limit), None
    for ax, (variant, backend, diff) in zip(axes.flat, panels):
        image = ax.imshow(diff, cmap="bwr", norm=norm)  # pure white where the two agree
        ax.set_title(f"{variant}\n{backend} − {baseline}")
        tick_classes(ax, classes, side)
        ax.set_xlabel("predicted class", fontsize=TEXT)
        ax.set_ylabel("true class", fontsize=TEXT)
    bar = fig.colorbar(image, ax=axes, shrink=0.8, aspect=30)
    bar.set_label("percentage points of the true class")
    return fig


def view(confusion: pd.DataFrame, baseline: str, style: dict[str, Style], dataset: str) -> dict:
    """What the report's confusion section shows for ``dataset``: its classes, the grid, where
    backends differ from ``baseline``, whether the grid shows every backend, the class table."""
    matrices = normalised_confusions(confusion[confusion["dataset"] == dataset])
    _, _, _, every_backend = layout(matrices, dataset, style)
    return {
        "dataset": dataset,
        "classes": len(next(iter(matrices.values()))),
        "every_backend": every_backend,
        "grid": confusion_grid(confusion, style, dataset),
        "grid_merged": any(b and SAME in b for _, b in layout(matrices, dataset, style)[0]),
        "difference": difference_grid(confusion, baseline, style, dataset),
        "per_class": table(
            per_class(confusion, dataset),
            caption="Counts summed over backends and seeds; test images: those of one run. "
            "Classes are numbered from 0: a label less the dataset's label_offset.",
        ),
    }
