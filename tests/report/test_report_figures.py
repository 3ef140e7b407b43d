"""The report's figures read back: the data each one plots, its scales, labels and legend.

Inputs are a few hand-made runs whose expected plotted values are worked out here.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from mnistbench.report import confusion as rc
from mnistbench.report import figures as rf


def test_each_backend_keeps_one_style_the_baseline_first():
    found = rf.styles(["torch", "jax", "numpy", "torch"], "numpy")
    assert list(found) == ["numpy", "jax", "torch"]
    assert found["numpy"] == rf.Style(rf.COLOURS[0], rf.MARKERS[0], rf.LINESTYLES[0])
    assert found["torch"] == rf.Style(rf.COLOURS[2], rf.MARKERS[2], rf.LINESTYLES[2])
    many = rf.styles([f"b{i}" for i in range(8)], "b0")
    assert many["b7"] == rf.Style(rf.COLOURS[0], rf.MARKERS[1], rf.LINESTYLES[3])
    assert many["b4"].linestyle == rf.LINESTYLES[0] and many["b5"].colour == rf.COLOURS[5]
    assert found["jax"].line() == {
        "color": rf.COLOURS[1],
        "marker": rf.MARKERS[1],
        "linestyle": rf.LINESTYLES[1],
        "markerfacecolor": "white",
        "markersize": 5,
    }


def test_a_figure_is_an_inline_svg_the_same_for_the_same_data():
    runs = history({"numpy": ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])})
    style = rf.styles(["numpy"], "numpy")
    first, second = rf.learning_curves(runs, style), rf.learning_curves(runs, style)
    assert first.startswith("<svg") and first.rstrip().endswith("</svg>") and first == second
    assert "<dc:date>" not in first


def test_a_figure_holds_its_text_as_text_not_glyph_outlines():
    runs = history({"numpy": ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])})
    svg = ElementTree.fromstring(rf.learning_curves(runs, rf.styles(["numpy"], "numpy")))
    texts = {"".join(t.itertext()) for t in svg.iter("text")}
    assert {rf.LOSS, "test accuracy (fraction)"} <= texts
    assert not any(use.get("href").startswith("#DejaVu") for use in svg.iter("use"))
    # one font rule for the figure's labels, ending in the reader's own sans-serif
    rule = f"#{svg.get('id')} text{{font-family: 'DejaVu Sans'"
    assert rule in svg.find("defs/style").text and "sans-serif}" in svg.find("defs/style").text
    assert not any("font-family" in (t.get("style") or "") for t in svg.iter("text"))


def test_two_figures_share_no_id_so_both_fit_in_one_page():
    one = history({"numpy": ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])})
    two = history({"numpy": ([1.0, 1.0], [0.6, 0.3], [0.7, 0.9])})
    style = rf.styles(["numpy"], "numpy")
    ids = [ids_and_references(rf.learning_curves(runs, style)) for runs in (one, two)]
    assert ids[0][0] and not ids[0][0] & ids[1][0]
    for defined, referenced in ids:
        assert referenced <= defined  # every reference still finds its element


def ids_and_references(svg: str) -> tuple[set[str], set[str]]:
    """The ids an SVG defines and the ids its ``href`` and ``url(#...)`` refer to."""
    root = ElementTree.fromstring(svg)
    defined = {e.get("id") for e in root.iter() if e.get("id")}
    referenced = {e.get("href")[1:] for e in root.iter() if e.get("href")}
    referenced |= set(re.findall(r"url\(#([^)]+)\)", svg))
    return defined, referenced


def history(curves: dict, seeds=(0,)) -> pd.DataFrame:
    """backend -> (seconds per epoch, train loss, test accuracy), the same for every seed."""
    rows = []
    for backend, (seconds, loss, accuracy) in curves.items():
        for seed in seeds:
            for epoch, (s, lo, a) in enumerate(zip(seconds, loss, accuracy), start=1):
                rows.append(
                    {
                        "dataset": "mnist",
                        "variant": "mlp",
                        "backend": backend,
                        "seed": seed,
                        "epoch": epoch,
                        "train_loss": lo + 0.01 * seed,
                        "test_accuracy": a - 0.01 * seed,
                        "seconds": s,
                    }
                )
    return pd.DataFrame(rows)


def test_curve_stats_sum_the_seconds_per_seed_and_average_over_seeds():
    runs = history({"numpy": ([1.0, 2.0], [0.5, 0.3], [0.8, 0.9])}, seeds=(0, 2))
    stats = rf.curve_stats(runs.iloc[::-1]).set_index(["backend", "epoch"])
    assert stats.loc[("numpy", 2), ("train_s", "mean")] == 3.0
    assert stats.loc[("numpy", 1), ("train_loss", "mean")] == pytest.approx(0.51)
    assert stats.loc[("numpy", 2), ("test_accuracy", "std")] == pytest.approx(0.02 / 2**0.5)
    assert stats.loc[("numpy", 2), ("test_accuracy", "count")] == 2


def panels(fig):
    return {(ax.get_xlabel() or "top", ax.get_ylabel() or "right"): ax for ax in fig.axes}


def test_learning_curves_plot_the_means_by_epoch_side_by_side_and_by_seconds():
    runs = history(
        {
            "numpy": ([1.0, 1.0, 1.0], [0.5, 0.4, 0.3], [0.8, 0.85, 0.9]),
            "torch": ([0.5, 0.5, 0.5], [0.6, 0.45, 0.35], [0.7, 0.8, 0.9]),
        }
    )
    fig = rf.learning_curves_figure(runs, rf.styles(["numpy", "torch"], "numpy"))
    loss_epoch, loss_s, acc_epoch, acc_s = fig.axes
    assert loss_epoch.get_ylabel() == rf.LOSS
    assert acc_epoch.get_ylabel() == "test accuracy (fraction)"
    assert acc_epoch.get_xlabel() == "epoch" and loss_epoch.get_xlabel() == ""
    assert acc_s.get_xlabel() == rf.SECONDS
    numpy, torch = loss_epoch.get_lines()
    assert np.allclose(numpy.get_xydata(), [[0.97, 0.5], [1.97, 0.4], [2.97, 0.3]])
    assert np.allclose(torch.get_xydata(), [[1.03, 0.6], [2.03, 0.45], [3.03, 0.35]])
    assert numpy.get_color() == rf.COLOURS[0] and torch.get_linestyle() == "--"
    [numpy_s, torch_s] = acc_s.get_lines()
    assert np.allclose(numpy_s.get_xydata(), [[1, 0.8], [2, 0.85], [3, 0.9]])
    assert np.allclose(torch_s.get_xydata(), [[0.5, 0.7], [1, 0.8], [1.5, 0.9]])
    assert acc_s.get_xscale() == "linear"  # 0.5 to 3 s: not far apart
    # one seed: no band
    assert not [c for ax in fig.axes for c in ax.collections if isinstance(c, PolyCollection)]
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["numpy", "torch"]
    assert loss_epoch.get_xlim() != (0.5, 1.5)
    assert [t for t in acc_epoch.get_xticks() if 1 <= t <= 3] == [1, 2, 3]


def bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_bands_span_one_sd_and_coinciding_ones_are_drawn_once_by_epoch():
    same = ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])
    runs = history(
        {"numpy": same, "torch": same, "jax": ([0.1] * 2, [0.6, 0.5], [0.7, 0.8])}, (0, 1)
    )
    fig = rf.learning_curves_figure(runs, rf.styles(["numpy", "torch", "jax"], "numpy"))
    loss_epoch, loss_s, _, _ = fig.axes
    assert len(bands(loss_epoch)) == 2  # numpy and jax; torch's equals numpy's
    assert len(bands(loss_s)) == 3
    sd = 0.01 / 2**0.5
    [numpy_band] = [b for b in bands(loss_s) if b.get_facecolor()[0][2] > 0.6]  # numpy's blue
    ys = numpy_band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0.405 - sd) and ys.max() == pytest.approx(0.505 + sd)
    assert numpy_band.get_alpha() == 0.15
    xs = loss_epoch.get_lines()[0].get_xdata()  # numpy, the first of three: dodged 0.06 left
    assert list(xs) == pytest.approx([0.94, 1.94])


def test_backends_far_apart_in_speed_get_a_log_seconds_axis():
    runs = history(
        {
            "numpy": ([30.0, 30.0], [0.5, 0.4], [0.8, 0.9]),
            "jax": ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9]),
        }
    )
    fig = rf.learning_curves_figure(runs, rf.styles(["numpy", "jax"], "numpy"))
    _, loss_s, _, acc_s = fig.axes
    assert loss_s.get_xscale() == "log" and acc_s.get_xscale() == "log"
    assert acc_s.get_xlabel() == "training s (log scale)"
    fig.canvas.draw()
    labels = [t.get_text() for t in acc_s.get_xticklabels() if t.get_text()]
    assert "10" in labels and "20" in labels and "50" in labels
    assert not [t.get_text() for t in acc_s.get_xticklabels(minor=True) if t.get_text()]
    assert loss_s.get_xlim()[1] < 100


def test_a_one_epoch_run_is_framed_half_an_epoch_either_side():
    fig = rf.learning_curves_figure(
        history({"numpy": ([1.0], [0.5], [0.8])}), rf.styles(["numpy"], "numpy")
    )
    assert fig.axes[0].get_xlim() == (0.5, 1.5)


def speedups(rows):
    frame = pd.DataFrame(
        rows, columns=["dataset", "variant", "backend", "seed", "epoch_seconds", "train_speedup"]
    )
    frame["baseline_epoch_seconds"] = frame.groupby(["dataset", "variant"])[
        "epoch_seconds"
    ].transform(lambda s: s[frame.loc[s.index, "backend"] == "numpy"].median())
    return frame


SPEEDUP = "training speed-up over numpy (×, ratio of medians)"
LOW, HIGH = "train speed-up 95% interval, low (×)", "train speed-up 95% interval, high (×)"


def speed_table(rows) -> pd.DataFrame:
    """The report's speed table, as much of it as the chart reads: (dataset, variant, point,
    backend, speed-up over numpy, its interval's low and high)."""
    frame = pd.DataFrame(
        rows, columns=["dataset", "variant", "point", "backend", SPEEDUP, LOW, HIGH]
    )
    return frame.assign(device="cpu")


def speed_chart(rows, backends):
    """The speed chart of ``rows`` (:func:`speed_table`) against numpy, in the colours
    :func:`rf.styles` gives ``backends``."""
    return rf.speed_chart_figure(speed_table(rows), "numpy", rf.styles(backends, "numpy"))


def test_the_speed_chart_marks_each_speed_up_with_its_95_percent_interval():
    rows = [
        ("mnist", "mlp", "default", "numpy", 1.0, np.nan, np.nan),
        ("mnist", "mlp", "default", "torch", 2.0, 1.5, 2.5),
        ("mnist", "mnn", "default", "numpy", 1.0, np.nan, np.nan),
        ("mnist", "mnn", "default", "jax", 0.5, np.nan, np.nan),  # one run a side: no interval
        ("mnist", "mnn", "default", "torch", np.nan, np.nan, np.nan),
    ]
    fig, titles = speed_chart(rows, ["numpy", "torch", "jax"])
    [ax] = fig.axes
    markers = {
        line.get_color(): (line.get_xdata()[0], line.get_ydata()[0])
        for line in ax.get_lines()
        if line.get_marker() not in ("None", "", None)
    }
    style = rf.styles(["numpy", "torch", "jax"], "numpy")
    # jax (first after the baseline) 0.2 above its row, torch 0.2 below; mlp at 0, mnn at 1
    assert markers == {style["torch"].colour: (2.0, 0.2), style["jax"].colour: (0.5, 0.8)}
    whiskers = [
        tuple(line.get_xdata())
        for line in ax.get_lines()
        if line.get_marker() in ("None", "", None)
        and len(line.get_xdata()) == 2
        and line.get_ydata()[0] == line.get_ydata()[1]
    ]
    assert whiskers == [(1.5, 2.5)]  # torch's interval; jax's one run has none
    assert ax.get_xscale() == "log" and ax.yaxis_inverted()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mlp", "mnn"]
    assert ax.get_xlabel() == "training speed-up over numpy (log)"
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["jax", "torch", "numpy (1×)"]
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.5×", "1×", "2×"]
    assert sorted(titles.values()) == [
        "jax, mnn: 0.5× numpy's speed, one run: no interval",
        "torch, mlp: 2× numpy's speed, 95% interval 1.50–2.50×",
    ]


def test_the_speed_chart_puts_sweep_points_in_numeric_order_and_names_several_datasets():
    rows = [
        (dataset, "mlp", f"batch_size={b}", "torch", 2.0, 1.5, 2.5)
        for dataset in ("fashion", "mnist")
        for b in (256, 16, 64)
    ]
    fig, _ = speed_chart(rows, ["numpy", "torch"])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    points = [f"mlp\nbatch_size={b}" for b in (16, 64, 256)]
    assert labels == [f"{d}: {p}" for d in ("fashion", "mnist") for p in points]


def test_a_wide_range_of_speed_ups_keeps_its_tick_labels_apart_and_its_label_in_the_figure():
    """Autograd twins 20 times slower than tuned beside backends 3 times faster: ticks at the
    decades only, and the axis label, under long variant labels, inside the figure."""
    rows = [
        ("mnist", variant, point, "torch", ratio, np.nan, np.nan)
        for variant in ("dropout_mlp", "mnn")
        for point, ratio in (("default", 3.0), ("implementation=autograd", 0.05))
    ]
    fig, _ = speed_chart(rows, ["numpy", "torch"])
    [ax] = fig.axes
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1×", "1×"]
    label, figure = ax.xaxis.label.get_window_extent(), fig.bbox
    assert figure.x0 <= label.x0 and label.x1 <= figure.x1


def test_each_speed_up_has_its_exact_values_as_an_svg_title():
    rows = [("mnist", "mlp", "default", "torch", 2.0, 1.5, 2.5)]
    svg = rf.speed_chart(speed_table(rows), "numpy", rf.styles(["numpy", "torch"], "numpy"))
    root = ElementTree.fromstring(svg)
    titles = [t.text for t in root.iter("title")]
    assert titles == ["torch, mlp: 2× numpy's speed, 95% interval 1.50–2.50×"]


def confusion(counts: dict) -> pd.DataFrame:
    """(variant, backend, seed) -> 10 x 10 counts."""
    rows = []
    for (variant, backend, seed), matrix in counts.items():
        for true in range(10):
            for predicted in range(10):
                rows.append(
                    {
                        "dataset": "mnist",
                        "variant": variant,
                        "backend": backend,
                        "seed": seed,
                        "true": true,
                        "predicted": predicted,
                        "count": matrix[true, predicted],
                    }
                )
    return pd.DataFrame(rows)


EYE = np.eye(10, dtype=int) * 10
MOVED = EYE.copy()
MOVED[3, 3], MOVED[3, 5] = 6, 4  # 4 of class 3's 10 images called 5


def test_confusions_sum_the_seeds_then_divide_by_the_true_class():
    empty = EYE.copy()
    empty[9, 9] = 0  # a class with no image: zeros, not NaN
    found = rc.normalised_confusions(
        confusion({("mlp", "numpy", 0): EYE, ("mlp", "numpy", 1): MOVED, ("mlp", "jax", 0): empty})
    )
    matrix = found[("mnist", "mlp", "numpy")]
    assert matrix[3, 3] == pytest.approx(16 / 20) and matrix[3, 5] == pytest.approx(4 / 20)
    assert matrix[0, 0] == 1.0
    assert found[("mnist", "mlp", "jax")][9].tolist() == [0.0] * 10


def test_differences_skip_pairs_without_a_baseline_or_of_another_shape():
    data = confusion(
        {("mlp", "numpy", 0): EYE, ("mlp", "torch", 0): MOVED, ("mnn", "torch", 0): EYE}
    )
    found = rc.differences(data, "numpy")
    assert found[["variant", "backend", rc.CELLS]].values.tolist() == [["mlp", "torch", 2]]
    assert found[rc.LARGEST].tolist() == pytest.approx([0.4])
    shorter = data[~((data["backend"] == "torch") & (data["true"] == 9))]
    assert rc.differences(shorter, "numpy").empty


def test_same_curves_groups_backends_with_equal_accuracies_at_every_epoch():
    same = ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])
    runs = history({"numpy": same, "torch": same, "jax": ([1.0] * 2, [0.5, 0.4], [0.8, 0.91])})
    assert rf.same_curves(runs.sample(frac=1, random_state=0)) == [["numpy", "torch"]]
    runs.loc[runs["backend"] == "torch", "test_accuracy"] += 1e-12  # below the 9th decimal
    assert rf.same_curves(runs) == [["numpy", "torch"]]
    assert rf.same_curves(runs[runs["backend"] != "torch"]) == []


def images(fig):
    return [im for ax in fig.axes for im in ax.get_images() if isinstance(im, AxesImage)]


def test_the_confusion_grid_shows_each_variant_and_backend_matrix_on_one_scale():
    data = confusion(
        {("mlp", "numpy", 0): EYE, ("mlp", "torch", 0): MOVED, ("mnn", "numpy", 0): MOVED}
    )
    fig = rc.confusion_grid_figure(data, rf.styles(["numpy", "torch"], "numpy"), "mnist")
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == 4 and not grid[3].get_visible()  # mnn has no torch run
    assert [ax.get_title() for ax in grid[:2]] == ["numpy", "torch"]
    assert grid[0].get_ylabel() == "mlp\ntrue class" and grid[2].get_ylabel() == "mnn\ntrue class"
    assert grid[2].get_xlabel() == "predicted class" and grid[0].get_xlabel() == ""
    shown = [ax.get_images()[0].get_array() for ax in grid[:3]]
    assert np.array_equal(shown[0], np.eye(10))
    assert shown[1][3, 5] == pytest.approx(0.4) and shown[2][3, 3] == pytest.approx(0.6)
    norm = grid[0].get_images()[0].norm
    assert (norm.vmin, norm.vmax, norm.gamma) == (0, 1, 0.35)
    [bar] = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bar.get_ylabel() == "fraction of the true class (rows sum to 1)"
    assert list(bar.get_yticks()) == [0, 0.01, 0.05, 0.2, 0.5, 1]
    assert list(grid[0].get_xticks()) == list(range(10))


def test_the_difference_grid_shows_percentage_points_where_a_backend_departs():
    data = confusion(
        {
            ("mlp", "numpy", 0): EYE,
            ("mlp", "torch", 0): MOVED,
            ("mlp", "jax", 0): EYE,  # agrees: no panel
            ("mnn", "numpy", 0): EYE,
            ("mnn", "torch", 0): EYE,
        }
    )
    style = rf.styles(["numpy", "torch", "jax"], "numpy")
    fig = rc.difference_grid_figure(data, "numpy", style, "mnist")
    [ax, bar] = fig.axes
    assert ax.get_title() == "mlp\ntorch − numpy"
    diff = ax.get_images()[0].get_array()
    assert diff[3, 5] == pytest.approx(40) and diff[3, 3] == pytest.approx(-40)
    assert np.count_nonzero(diff) == 2
    norm = ax.get_images()[0].norm
    assert (norm.vmin, norm.vcenter, norm.vmax) == pytest.approx((-40, 0, 40))
    assert bar.get_ylabel() == "percentage points of the true class"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert rc.difference_grid(data[data["backend"] != "torch"], "numpy", style, "mnist") is None
    assert rc.difference_grid(data, "numpy", style, "mnist").startswith("<svg")


def test_the_difference_grid_puts_three_panels_a_row_ordered_by_variant_then_backend():
    small = EYE.copy()
    small[0, 0], small[0, 1] = 9999, 1  # 0.01 points: the scale still spans ±0.5
    counts = {("a", "numpy", 0): EYE, ("b", "numpy", 0): EYE}
    counts |= {(v, b, 0): MOVED for v in "ab" for b in ("torch", "jax")}
    counts[("a", "torch", 0)] = small
    counts[("a", "numpy", 0)] = small.copy()
    counts[("a", "numpy", 0)][0, 1] = 0
    style = rf.styles(["numpy", "torch", "jax"], "numpy")
    fig = rc.difference_grid_figure(confusion(counts), "numpy", style, "mnist")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 6
    titles = [ax.get_title() for ax in panels if ax.get_visible()]
    assert titles == ["a\njax − numpy", "a\ntorch − numpy", "b\njax − numpy", "b\ntorch − numpy"]
    assert [ax.get_visible() for ax in panels] == [True] * 4 + [False] * 2
    assert fig.get_size_inches().tolist() == pytest.approx([0.9 + 2.6 * 3, 0.5 + 2.8 * 2])


def test_each_chart_in_the_report_is_its_figure_as_an_svg():
    style = rf.styles(["numpy", "torch"], "numpy")
    runs = history({"numpy": ([1.0], [0.5], [0.8]), "torch": ([2.0], [0.5], [0.7])})
    rates = speed_table([("mnist", "mlp", "default", "torch", 2.0, 1.5, 2.5)])
    matrices = confusion({("mlp", "numpy", 0): EYE, ("mlp", "torch", 0): MOVED})
    assert rf.learning_curves(runs, style) == rf.svg.inline(rf.learning_curves_figure(runs, style))
    assert rf.speed_chart(rates, "numpy", style) == rf.svg.inline(
        *rf.speed_chart_figure(rates, "numpy", style)
    )
    assert rc.confusion_grid(matrices, style, "mnist") == rf.svg.inline(
        rc.confusion_grid_figure(matrices, style, "mnist")
    )
    assert rc.difference_grid(matrices, "numpy", style, "mnist") == rf.svg.inline(
        rc.difference_grid_figure(matrices, "numpy", style, "mnist")
    )


def test_differences_name_the_dataset_of_each_pair():
    data = confusion({("mlp", "numpy", 0): EYE, ("mlp", "torch", 0): MOVED})
    found = rc.differences(data, "numpy")
    assert found.columns[:3].tolist() == ["dataset", "variant", "backend"]
    assert found["dataset"].tolist() == ["mnist"]


def test_confusion_matrices_get_ten_classes_a_side_and_the_whole_zero_to_one_scale():
    dense = np.full((10, 10), 1) + 5 * np.eye(10, dtype=int)  # every cell 1/15 to 6/15
    data = confusion(
        {("mlp", "torch", 0): dense, ("mnn", "numpy", 0): MOVED, ("mnn", "torch", 0): EYE}
    )
    fig = rc.confusion_grid_figure(data, rf.styles(["numpy", "torch"], "numpy"), "mnist")
    fig.canvas.draw()
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    # mlp has no numpy run: its cell is hidden and the torch cell beside it still drawn
    assert [ax.get_visible() for ax in grid] == [False, True, True, True]
    assert [len(ax.get_images()) for ax in grid] == [0, 1, 1, 1]
    for ax in grid[1:]:
        norm = ax.get_images()[0].norm
        assert (norm.vmin, norm.vmax) == (0, 1)  # not the first matrix's 1/15 to 6/15
        assert list(ax.get_yticks()) == list(range(10)) == list(ax.get_xticks())
        assert sorted(ax.get_ylim()) == [-0.5, 9.5]


def test_a_seed_that_stopped_early_leaves_no_band_where_one_seed_remains():
    runs = history({"numpy": ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])}, seeds=(0, 1))
    runs = runs[~((runs["seed"] == 1) & (runs["epoch"] == 2))]  # seed 1 diverged after epoch 1
    fig = rf.learning_curves_figure(runs, rf.styles(["numpy"], "numpy"))
    loss_epoch = fig.axes[0]
    [band] = bands(loss_epoch)
    ys = band.get_paths()[0].vertices
    at_epoch_2 = ys[np.isclose(ys[:, 0], 2), 1]
    assert at_epoch_2.min() == at_epoch_2.max() == pytest.approx(0.4)  # one seed: no spread


def test_each_row_of_learning_curves_shares_its_y_scale():
    runs = history({"numpy": ([1.0, 1.0], [0.5, 0.4], [0.8, 0.9])})
    loss_epoch, loss_s, acc_epoch, acc_s = rf.learning_curves_figure(
        runs, rf.styles(["numpy"], "numpy")
    ).axes
    assert loss_epoch.get_shared_y_axes().joined(loss_epoch, loss_s)
    assert acc_epoch.get_shared_y_axes().joined(acc_epoch, acc_s)
    assert not loss_epoch.get_shared_y_axes().joined(loss_epoch, acc_epoch)


def test_a_class_with_one_test_image_reads_as_a_whole_row():
    single = EYE.copy()
    single[4, 4] = 1
    found = rc.normalised_confusions(confusion({("mlp", "numpy", 0): single}))
    assert found[("mnist", "mlp", "numpy")][4].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]


def test_the_difference_scale_is_symmetric_white_at_zero_and_at_least_half_a_point():
    split = EYE.copy()
    split[3, 3], split[3, 5], split[3, 7] = 6, 2, 2  # -40, +20, +20 points
    data = confusion({("mlp", "numpy", 0): EYE, ("mlp", "torch", 0): split})
    style = rf.styles(["numpy", "torch"], "numpy")
    fig = rc.difference_grid_figure(data, "numpy", style, "mnist")
    fig.canvas.draw()
    [ax, _] = fig.axes
    image = ax.get_images()[0]
    assert (image.norm.vmin, image.norm.vmax) == pytest.approx((-40, 40))
    assert image.cmap(image.norm(0.0)) == pytest.approx((1, 1, 1, 1), abs=0.01)  # agree: white
    assert list(ax.get_yticks()) == list(range(10)) == list(ax.get_xticks())
    assert sorted(ax.get_ylim()) == [-0.5, 9.5] and sorted(ax.get_xlim()) == [-0.5, 9.5]
    swapped = confusion({("mlp", "numpy", 0): split, ("mlp", "torch", 0): EYE})  # +40, -20, -20
    norm = rc.difference_grid_figure(swapped, "numpy", style, "mnist").axes[0].get_images()[0].norm
    assert (norm.vmin, norm.vmax) == pytest.approx((-40, 40))
    tiny = EYE * 1000
    tiny[0, 0], tiny[0, 1] = 9999, 1  # 0.01 points of class 0
    norm = (
        rc.difference_grid_figure(
            confusion({("mlp", "numpy", 0): EYE * 1000, ("mlp", "torch", 0): tiny}),
            "numpy",
            style,
            "mnist",
        )
        .axes[0]
        .get_images()[0]
        .norm
    )
    assert (norm.vmin, norm.vmax) == (-0.5, 0.5)


def test_curves_agreeing_to_the_seventh_digit_get_two_percent_of_their_size_in_plain_numbers():
    close = history(
        {
            "numpy": ([1.0, 1.0], [0.6430001, 0.6430002], [0.9, 0.9]),
            "torch": ([1.0, 1.0], [0.6430002, 0.6430001], [0.9, 0.9]),
        }
    )
    fig = rf.learning_curves_figure(close, rf.styles(["numpy", "torch"], "numpy"))
    fig.canvas.draw()
    loss_epoch = fig.axes[0]
    low, high = loss_epoch.get_ylim()
    assert high - low == pytest.approx(0.02 * high, rel=0.02)
    assert (low + high) / 2 == pytest.approx(0.64300015)
    assert loss_epoch.yaxis.get_offset_text().get_text() == ""
    negative = history({"numpy": ([1.0, 1.0], [-0.5000001, -0.5000002], [0.9, 0.9])})
    fig = rf.learning_curves_figure(negative, rf.styles(["numpy"], "numpy"))
    low, high = fig.axes[0].get_ylim()
    assert high - low == pytest.approx(0.01, rel=0.02) and (low + high) / 2 == pytest.approx(
        -0.50000015
    )
    tiny = history({"numpy": ([1.0, 1.0], [1e-7, 1.00000001e-7], [0.9, 0.9])})
    low, high = rf.learning_curves_figure(tiny, rf.styles(["numpy"], "numpy")).axes[0].get_ylim()
    assert high - low == pytest.approx(2e-9, rel=0.02)
    spread = history({"numpy": ([1.0, 1.0], [0.5, 0.1], [0.9, 0.9])})
    low, high = rf.learning_curves_figure(spread, rf.styles(["numpy"], "numpy")).axes[0].get_ylim()
    assert low < 0.1 and high > 0.5 and high - low < 0.6  # wide enough already: left alone


@pytest.mark.parametrize(
    ("fast", "slow", "scale"),
    [(1.0, 20.0, "linear"), (1.0, 20.5, "log"), (2.0, 30.0, "linear"), (0.01, 1.0, "log")],
)
def test_the_seconds_axis_turns_logarithmic_beyond_twenty_times(fast, slow, scale):
    runs = history({"numpy": ([slow], [0.5], [0.8]), "jax": ([fast], [0.5], [0.8])})
    _, loss_s, _, acc_s = rf.learning_curves_figure(runs, rf.styles(["numpy", "jax"], "numpy")).axes
    assert loss_s.get_xscale() == acc_s.get_xscale() == scale


def test_each_band_has_the_colour_of_its_line():
    runs = history(
        {"numpy": ([1.0] * 2, [0.5, 0.4], [0.8, 0.9]), "jax": ([1.0] * 2, [0.6, 0.5], [0.7, 0.8])},
        seeds=(0, 1),
    )
    style = rf.styles(["numpy", "jax"], "numpy")
    loss_epoch = rf.learning_curves_figure(runs, style).axes[0]
    colours = [tuple(band.get_facecolor()[0][:3]) for band in bands(loss_epoch)]
    assert colours == [to_rgba(style[b].colour)[:3] for b in ("numpy", "jax")]


def test_the_speed_chart_is_a_phones_width_and_each_row_gets_the_same_height():
    one = [("mnist", "mlp", "default", "torch", 2.0, 1.5, 2.5)]
    six = [
        ("mnist", v, "default", b, 2.0, 1.5, 2.5)
        for v in ("mlp", "mnn", "pc")
        for b in ("torch", "jax")
    ]
    small = speed_chart(one, ["numpy", "torch", "jax"])[0].get_size_inches()
    large = speed_chart(six, ["numpy", "torch", "jax"])[0].get_size_inches()
    assert small[0] == large[0] == rf.PANEL
    # 1 row against 3 variants x 2 backends = 6: 0.28 in a row, 1.2 in for axis and legend
    assert small[1] == pytest.approx(1.2 + 0.28) and large[1] == pytest.approx(1.2 + 0.28 * 6)


@pytest.mark.parametrize("backends", [2, 8])
def test_confusion_matrices_are_square_panels_at_most_1_6_inches_within_the_page(backends):
    names = [f"b{i}" for i in range(backends)]
    data = confusion({(v, b, 0): moved(i) for v in ("mlp", "mnn") for i, b in enumerate(names)})
    fig = rc.confusion_grid_figure(data, rf.styles(names, "b0"), "mnist")
    side = min(1.6, (rf.WIDTH - 0.8) / backends)  # 0.8 in for the row labels
    width, height = fig.get_size_inches()
    assert width == pytest.approx(side * backends + 0.8) and width <= rf.WIDTH + 1e-9
    assert height == pytest.approx(side * 2 + 0.5)  # two variants, 0.5 in for the axis label


def moved(images: int) -> np.ndarray:
    """EYE with ``images`` of class 3's 10 called 5: a matrix of its own for each count."""
    matrix = EYE.copy()
    matrix[3, 3], matrix[3, 5] = 10 - images, images
    return matrix


def test_identical_confusion_matrices_are_drawn_once_and_labelled_so():
    data = confusion({("mlp", "numpy", 0): EYE, ("mlp", "torch", 0): EYE, ("mlp", "jax", 0): MOVED})
    fig = rc.confusion_grid_figure(data, rf.styles(["numpy", "torch", "jax"], "numpy"), "mnist")
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.get_visible()]
    assert [ax.get_title() for ax in grid] == ["mlp\nnumpy = torch", "mlp\njax"]


@pytest.mark.parametrize(
    "labels",
    [
        ["torch", "jax", "numpy (1×)"],
        ["paced_slow", "paced_twin", "paced (1×)"],
        ["mybackend_float64", "torch on cuda", "jax on cuda", "numpy (1×)"],
    ],
)
def test_a_figure_legend_has_as_many_columns_as_fit_its_figure(labels):
    fig = Figure(figsize=(rf.PANEL, 2))
    fig.set_layout_engine("constrained")
    ax = fig.subplots()
    for label in labels:
        ax.plot([0, 1], [0, 1], label=label)
    columns = rf.legend_columns(labels, fig.get_figwidth())
    legend = fig.legend(loc="outside upper center", ncols=columns, frameon=False)
    fig.canvas.draw()
    box, page = legend.get_window_extent(), fig.bbox
    assert page.x0 <= box.x0 and box.x1 <= page.x1, (columns, box, page)
    if columns < min(3, len(labels)):  # one column more would not have fitted
        wider = fig.legend(loc="outside upper center", ncols=columns + 1, frameon=False)
        fig.canvas.draw()
        assert wider.get_window_extent().width > page.width * 0.97
