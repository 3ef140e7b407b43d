"""The report's confusion views at 26 and 47 classes: the matrices, the differences and a row per
class, laid out so that a class keeps a legible cell on a desktop and on a phone (390 px), checked
in Debian's headless Chromium as ``test_report_browser`` does."""

from __future__ import annotations

import html as markup

import numpy as np
import pandas as pd
import pytest

from mnistbench.report import confusion as rc
from mnistbench.report import figures as rf
from mnistbench.report import render
from mnistbench.report.per_class import per_class
from tests import known
from tests.report.test_report import SETTINGS
from tests.report.test_report_browser import FRAME_AROUND
from tests.report.test_report_browser import measure as measure_in_chromium

BACKENDS = ("numpy", "torch", "jax")
VARIANTS = ("mlp", "mnn")


def counts(classes: int, seed: int) -> np.ndarray:
    """A seeded confusion matrix: 30 to 39 right per class, a few mistakes scattered."""
    rng = np.random.default_rng(seed)
    matrix = rng.poisson(0.3, (classes, classes))
    np.fill_diagonal(matrix, rng.integers(30, 40, classes))
    return matrix


def confusion(classes: int, backends=BACKENDS, variants=VARIANTS, seeds=(0, 1)) -> pd.DataFrame:
    """Long-form confusion counts of ``letters`` runs, as aggregate writes them."""
    rows = []
    for v, variant in enumerate(variants):
        for b, backend in enumerate(backends):
            for seed in seeds:
                matrix = counts(classes, 100 * v + 10 * b + seed)
                rows += [
                    {"dataset": "letters", "variant": variant, "backend": backend, "seed": seed}
                    | {"true": t, "predicted": p, "count": int(matrix[t, p])}
                    for t in range(classes)
                    for p in range(classes)
                ]
    return pd.DataFrame(rows)


def write_tables(folder, classes: int):
    """Known's tables made into runs of every variant and backend on a ``classes`` set."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("summary", "history", "provenance"):
        frame = getattr(known, name)()
        frame = frame[(frame["backend"] == "numpy") & (frame["variant"] == "mlp")]
        frame = pd.concat(
            [frame.assign(variant=v, backend=b) for v in VARIANTS for b in BACKENDS]
        ).assign(dataset="letters")
        frame.to_csv(folder / f"{name}.csv", index=False)
    confusion(classes).to_csv(folder / "confusion.csv", index=False)
    return folder


def style():
    return rf.styles(BACKENDS, "numpy")


def test_at_26_classes_three_backends_no_longer_fit_and_each_variant_shows_the_baselines():
    fig = rc.confusion_grid_figure(confusion(26), style(), "letters")
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in grid] == ["mlp (numpy)", "mnn (numpy)"]
    assert fig.get_size_inches()[0] <= rf.WIDTH  # two to a row, within the page
    side = rc.panel_side(26, 1)
    assert side / 26 >= rc.CELL
    assert list(grid[0].get_xticks()) == list(range(0, 26, 2))  # labels every 2 classes
    ticks = {*grid[0].get_xticks(), *grid[0].get_xticks(minor=True)}
    assert sorted(ticks) == list(range(26))  # a tick at each class


def test_at_26_classes_two_backends_still_fit_side_by_side():
    data = confusion(26, backends=("numpy", "torch"))
    fig = rc.confusion_grid_figure(data, rf.styles(["numpy", "torch"], "numpy"), "letters")
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in grid] == ["numpy", "torch", "", ""]
    assert grid[2].get_ylabel() == "mnn\ntrue class"


def test_at_47_classes_each_matrix_takes_a_row_and_keeps_its_cells():
    fig = rc.confusion_grid_figure(confusion(47), style(), "letters")
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == 2 and fig.get_size_inches()[0] <= rf.WIDTH
    assert rc.panel_side(47, 1) == pytest.approx(47 * rc.CELL)
    assert grid[0].get_images()[0].get_array().shape == (47, 47)


def test_the_difference_grid_grows_with_the_classes():
    fig = rc.difference_grid_figure(confusion(47), "numpy", style(), "letters")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.get_visible()]
    assert len(panels) == 4  # torch and jax, for mlp and mnn
    width, _ = fig.get_size_inches()
    assert width == pytest.approx(0.9 + 2 * 47 * rc.CELL)  # two to a row


def test_per_class_gives_each_class_its_accuracy_and_most_frequent_mistake():
    data = confusion(4, backends=("numpy",), variants=("mlp",), seeds=(0,))
    data["count"] = 0
    cells = {(0, 0): 8, (0, 2): 2, (1, 1): 10, (2, 2): 5, (2, 1): 4, (2, 3): 1, (3, 3): 0}
    for (t, p), n in cells.items():
        data.loc[(data["true"] == t) & (data["predicted"] == p), "count"] = n
    table = per_class(data, "letters")
    assert table["class"].tolist() == [0, 1, 2, 3]
    assert table["test images"].tolist() == [10, 10, 10, 0]
    assert table["mlp accuracy"].tolist()[:3] == pytest.approx([0.8, 1.0, 0.5])
    assert np.isnan(table["mlp accuracy"].iloc[3])  # no image of class 3
    assert table["mlp most often taken for"].tolist() == ["2 (20.0%)", "", "1 (40.0%)", ""]


def test_the_report_names_the_classes_and_has_a_row_per_class(tmp_path):
    page = render.render(write_tables(tmp_path / "tables", 26), SETTINGS)
    assert "letters (26 classes)" in page
    assert "do not fit side by side" in page
    section = page[page.index("Per class (letters)") :]
    table = section[: section.index("</table>")]
    assert table.count("<tr") == 1 + 26  # the heading row and one per class


MEASURE = """
  const confusion = [...frame.document.querySelectorAll("div.chart")]
    .filter((chart) => chart.getAttribute("aria-label").startsWith("Confusion matrices"))
    .map((chart) => chart.querySelector("svg").getBoundingClientRect().width);
  const extra = {{confusion}};
"""
FRAME = FRAME_AROUND.replace("{measure}", MEASURE.strip("\n"))


def measure(page: str, width: int, tmp_path) -> dict:
    path = tmp_path / f"at-{width}-px.html"
    path.write_text(FRAME.format(width=width, page=markup.escape(page, quote=True)))
    return measure_in_chromium(path, width, tmp_path / "profile")


@pytest.mark.parametrize("classes", [26, 47])
@pytest.mark.parametrize("width, least", [(390, 5), (1280, 8)], ids=["phone", "desktop"])
def test_in_a_browser_the_page_fits_and_each_class_keeps_a_legible_cell(
    tmp_path, classes, width, least
):
    page = render.render(write_tables(tmp_path / "tables", classes), SETTINGS)
    measured = measure(page, width, tmp_path)
    assert measured["viewport"] == width, measured
    assert measured["document"] <= width and measured["widest"] <= width, measured
    fig = rc.confusion_grid_figure(confusion(classes), style(), "letters")
    inches = fig.get_size_inches()[0]
    [rendered] = measured["confusion"]
    cell = rendered / inches * rc.panel_side(classes, 1) / classes  # px a class, on screen
    assert cell >= least, (cell, measured)
