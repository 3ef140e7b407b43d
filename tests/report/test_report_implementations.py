"""What hand-tuning buys (mnistbench.report.implementations): each implementation against tuned."""

from __future__ import annotations

import pandas as pd
import pytest

from mnistbench.report.implementations import EPOCH, RATIO, READING, implementation_table


def runs(rows: list[tuple[str, str, str, int, float]]):
    """(summary, history) of runs (backend, point, implementation, seed, seconds per epoch), two
    epochs each, the second 10% slower than the first."""
    summary, history = [], []
    for backend, point, implementation, seed, seconds in rows:
        keys = {"dataset": "mnist", "variant": "mlp", "backend": backend, "point": point}
        keys |= {"seed": seed}
        summary.append(
            {
                **keys,
                "device": "cpu",
                "implementation": implementation,
                "test_accuracy": 0.9,
                "train_seconds": 2.1 * seconds,
                "epochs": 2,
                "setup_seconds": 0.5,
            }  # fmt: skip
        )
        history += [{**keys, "epoch": e, "seconds": seconds * f} for e, f in ((0, 1), (1, 1.1))]
    return pd.DataFrame(summary), pd.DataFrame(history)


def test_each_implementation_is_held_against_tuned_with_an_interval():
    summary, history = runs(
        [("torch", "default", "tuned", s, 1.0 + s / 10) for s in range(3)]
        + [("torch", "implementation=autograd", "autograd", s, 3.0 + s / 10) for s in range(3)]
        + [("numpy", "default", "tuned", s, 5.0) for s in range(3)]
    )
    table = implementation_table(summary, history, None)
    assert list(table["implementation"]) == ["tuned", "autograd"]
    autograd = table.iloc[1]
    assert autograd[EPOCH] == pytest.approx(2.1 * 3.1 / 2)
    assert autograd[RATIO] == pytest.approx(3.1 / 1.1)
    assert autograd["ratio 95% interval, low (×)"] <= autograd[RATIO]
    assert autograd[RATIO] <= autograd["ratio 95% interval, high (×)"]
    assert autograd["predictions against tuned's"] == "no predictions kept"


def test_runs_from_before_implementations_give_no_rows():
    summary, history = runs([("torch", "default", "tuned", 0, 1.0)])
    assert implementation_table(summary.drop(columns="implementation"), history, None).empty


def test_one_run_a_side_gives_the_ratio_but_no_interval_and_no_verdict():
    summary, history = runs(
        [
            ("torch", "default", "tuned", 0, 1.0),
            ("torch", "implementation=autograd", "autograd", 0, 3.0),
        ]
    )
    autograd = implementation_table(summary, history, None).iloc[1]
    assert autograd[RATIO] == pytest.approx(3.0)
    assert pd.isna(autograd["ratio 95% interval, low (×)"])
    assert autograd[READING] == "one run: not tested"


def test_a_clearly_slower_implementation_reads_slower_and_a_same_speed_one_no_difference():
    slower = implementation_table(
        *runs(
            [("torch", "default", "tuned", s, 1.0 + s / 100) for s in range(4)]
            + [("torch", "implementation=autograd", "autograd", s, 3.0 + s / 100) for s in range(4)]
        ),
        None,
    )
    assert slower.iloc[1][READING] == "slower than tuned"
    same = implementation_table(
        *runs(
            [("torch", "default", "tuned", s, 1.0 + s / 10) for s in range(4)]
            + [("torch", "implementation=autograd", "autograd", s, 1.3 - s / 10) for s in range(4)]
        ),
        None,
    )
    assert same.iloc[1][READING] == "no measurable difference"
