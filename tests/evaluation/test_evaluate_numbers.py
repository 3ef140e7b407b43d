"""The numbers ``evaluate`` writes, against a run whose every prediction was chosen beforehand.

See :mod:`tests.known`: each test image's true and predicted class are known, so accuracy,
every confusion cell, precision and recall are counted here from those pairs and compared with
what ``metrics.json`` holds.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnistbench.evaluation import evaluate
from tests import known


# Function scope, though every test could share one set of runs: mutmut credits the code a
# fixture runs to the first test that used it, and runs only that test against a mutant there
# (bench/mutation.py). Making the runs takes about 20 ms.
@pytest.fixture
def runs(tmp_path):
    _, runs = known.write_results(tmp_path)
    return runs


@pytest.fixture(params=sorted(known.SEEDS))
def run_and_metrics(request, runs):
    run = runs[request.param]
    return run, json.loads((run.directory / "metrics.json").read_text())


def test_accuracy_is_the_share_of_images_whose_predicted_class_is_their_label(run_and_metrics):
    run, metrics = run_and_metrics
    assert metrics["test_accuracy"] == pytest.approx(run.accuracy, abs=1e-12)


def test_the_two_seeds_have_different_known_accuracies(runs):
    assert (runs[0].accuracy, runs[1].accuracy) == (0.75, 0.5)


def test_every_confusion_cell_counts_its_true_and_predicted_class(run_and_metrics):
    run, metrics = run_and_metrics
    expected = [[run.cell(t, p) for p in range(10)] for t in range(10)]
    assert metrics["confusion_matrix"] == expected


def test_confusion_rows_are_true_classes_and_columns_predicted_ones(run_and_metrics):
    _, metrics = run_and_metrics
    matrix = metrics["confusion_matrix"]
    # two 3s taken for 5s, no 5 taken for a 3: a transposed matrix swaps these
    assert (matrix[3][5], matrix[5][3]) == (2, 0)
    assert [sum(row) for row in matrix] == [known.LABELS.count(k) for k in range(10)]


def test_precision_is_hits_over_times_predicted_and_none_if_never(run_and_metrics):
    run, metrics = run_and_metrics
    expected = [run.precision(k) for k in range(10)]
    assert metrics["precision"] == pytest.approx(expected, abs=1e-12)
    assert [p is None for p in metrics["precision"]] == [p is None for p in expected]


def test_recall_is_hits_over_times_true_and_none_if_never(run_and_metrics):
    run, metrics = run_and_metrics
    expected = [run.recall(k) for k in range(10)]
    assert metrics["recall"] == pytest.approx(expected, abs=1e-12)
    assert [r is None for r in metrics["recall"]] == [r is None for r in expected]


def test_precision_and_recall_differ_where_the_errors_are_lopsided(runs):
    run = runs[0]
    # class 5: predicted 3 times, right once; occurs once, found once
    assert (run.precision(5), run.recall(5)) == (pytest.approx(1 / 3), 1.0)
    assert (run.precision(8), run.recall(6)) == (None, None)


def test_throughput_is_test_images_over_predict_seconds(run_and_metrics):
    _, metrics = run_and_metrics
    assert metrics["predict_seconds"] > 0
    assert metrics["predict_samples_per_second"] == pytest.approx(
        len(known.LABELS) / metrics["predict_seconds"], rel=1e-12
    )


def test_metrics_carry_the_train_steps_figures_unchanged(run_and_metrics):
    run, metrics = run_and_metrics
    assert metrics["train_seconds"] == run.train_seconds
    assert metrics["samples_per_second"] == run.samples_per_second
    assert metrics["final_train_loss"] == run.final_train_loss
    assert metrics["test_samples"] == len(known.LABELS)
    assert metrics["evaluated_by"] == "numpy" and metrics["evaluation_device"] == "cpu"


def test_confusion_matrix_of_a_tiny_case_written_out_by_hand():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 0, 2, 2])
    np.testing.assert_array_equal(
        evaluate.confusion_matrix(labels, predicted, 3), [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    )


def test_per_class_scores_of_a_tiny_case_written_out_by_hand():
    precision, recall = evaluate.per_class_scores(
        np.array([[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    )
    assert precision == [0.5, 0.5, None, None]  # column sums 2, 2, 0, 0
    assert recall == [0.5, 1.0, 0.0, None]  # row sums 2, 1, 1, 0
