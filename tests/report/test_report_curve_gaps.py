"""Learning curves with unscored epochs (``curve_points``): the report's readers show the scored
epochs as they are and invent no point between them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistbench.report import figures as rf
from mnistbench.report import tables as rt
from tests.report.test_report_figures import history as figure_history

NAN = float("nan")


def history(curves: dict, seeds=(0, 1)) -> pd.DataFrame:
    """backend -> (seconds per epoch, train loss, test accuracy or NaN where not scored)."""
    return figure_history(curves, seeds)


SCORED_EVERY_SECOND = ([1.0] * 6, [0.6, 0.5, 0.4, 0.3, 0.25, 0.2], [NAN, 0.7, NAN, 0.85, NAN, 0.9])


def test_time_to_accuracy_counts_up_to_the_first_scored_epoch_at_the_target():
    runs = history({"numpy": SCORED_EVERY_SECOND}, seeds=(0,))
    [row] = rt.time_to_accuracy(runs, {"mlp": 0.8}).to_dict("records")
    assert row["training seconds to reach it (median)"] == 4.0  # epochs 1-4, unscored included
    assert row["epoch reached (median)"] == 4
    assert row["best test accuracy (fraction, max over seeds)"] == 0.9


def test_time_to_accuracy_reads_no_target_reached_from_unscored_epochs():
    runs = history({"numpy": ([1.0] * 3, [0.5] * 3, [NAN, NAN, 0.5])}, seeds=(0,))
    [row] = rt.time_to_accuracy(runs, {"mlp": 0.4}).to_dict("records")
    assert row["epoch reached (median)"] == 3 and row["seeds reaching it"] == "1 of 1"


def test_accuracy_lines_join_the_scored_epochs_and_loss_lines_every_epoch():
    runs = history({"numpy": SCORED_EVERY_SECOND})
    fig = rf.learning_curves_figure(runs, rf.styles(["numpy"], "numpy"))
    loss_epoch, loss_s, acc_epoch, acc_s = fig.axes
    [accuracy] = acc_epoch.get_lines()
    assert np.allclose(accuracy.get_xydata(), [[2, 0.695], [4, 0.845], [6, 0.895]])
    [by_seconds] = acc_s.get_lines()  # seconds summed over every epoch, scored or not
    assert np.allclose(by_seconds.get_xydata(), [[2, 0.695], [4, 0.845], [6, 0.895]])
    [loss] = loss_epoch.get_lines()
    assert loss.get_xdata().tolist() == [1, 2, 3, 4, 5, 6]
    for ax in fig.axes:
        for line in ax.get_lines():
            assert np.isfinite(line.get_xydata()).all()
    [band] = [c for c in acc_epoch.collections]  # two seeds: a band over the scored epochs
    assert np.isfinite(band.get_paths()[0].vertices).all()
    assert band.get_paths()[0].vertices[:, 0].min() == pytest.approx(2)


def test_same_curves_compare_the_scored_epochs():
    other = (SCORED_EVERY_SECOND[0], SCORED_EVERY_SECOND[1], [NAN, 0.7, NAN, 0.85, NAN, 0.91])
    runs = history({"numpy": SCORED_EVERY_SECOND, "torch": SCORED_EVERY_SECOND, "jax": other})
    assert rf.same_curves(runs) == [["numpy", "torch"]]


def test_runs_without_any_scored_epoch_are_not_called_the_same_curve():
    never = ([1.0], [NAN], [NAN])  # diverged in its first epoch
    assert rf.same_curves(history({"numpy": never, "torch": never})) == []
