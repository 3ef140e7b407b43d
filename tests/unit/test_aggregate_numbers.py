"""The numbers ``aggregate`` writes to its CSV tables, read back and checked against known runs.

The runs come from :mod:`tests.known`: their predictions and train figures were chosen, so each
cell of ``summary.csv``, ``confusion.csv`` and ``history.csv`` has a value fixed beforehand.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mnistbench.cli import main
from tests import known


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """(tables folder, known runs): the aggregate command run on the known runs' metrics."""
    root = tmp_path_factory.mktemp("known")
    _, runs = known.write_results(root)
    out = root / "tables"
    paths = [str(run.directory / "metrics.json") for run in runs.values()]
    assert main(["aggregate", *paths, "--out", str(out)]) == 0
    return out, runs


@pytest.fixture(scope="module")
def summary(results):
    return pd.read_csv(results[0] / "summary.csv").set_index("seed")


@pytest.mark.parametrize("seed", sorted(known.SEEDS))
def test_summary_row_holds_each_runs_accuracy_and_train_figures(results, summary, seed):
    run, row = results[1][seed], summary.loc[seed]
    assert row["test_accuracy"] == pytest.approx(run.accuracy, abs=1e-12)
    assert row["train_seconds"] == pytest.approx(run.train_seconds)
    assert row["samples_per_second"] == pytest.approx(run.samples_per_second)
    assert row["final_train_loss"] == pytest.approx(run.final_train_loss)
    assert row["peak_rss_mb"] == pytest.approx(run.peak_rss_mb)
    assert (row["epochs"], row["train_samples"]) == (known.EPOCHS, known.TRAIN_SAMPLES)
    assert row["test_samples"] == len(known.LABELS)
    assert (row["status"], row["dataset"], row["variant"]) == ("ok", known.DATASET, "mlp")
    assert pd.isna(row["reason"])  # empty for an ok run


@pytest.mark.parametrize("seed", sorted(known.SEEDS))
def test_job_wall_time_is_the_s_column_of_the_runs_snakemake_benchmark(results, summary, seed):
    assert summary.loc[seed, "job_wall_seconds"] == results[1][seed].job_wall_seconds


@pytest.mark.parametrize("seed", sorted(known.SEEDS))
def test_predict_throughput_is_test_images_over_predict_seconds(summary, seed):
    row = summary.loc[seed]
    assert row["predict_samples_per_second"] == pytest.approx(
        len(known.LABELS) / row["predict_seconds"], rel=1e-9
    )


def test_summary_has_one_row_per_run_sorted_by_seed(summary):
    assert summary.index.tolist() == sorted(known.SEEDS)


def test_summary_records_the_hyperparameters_the_run_used(summary):
    assert json.loads(summary.loc[0, "hyperparameters"])["hidden"] == known.HIDDEN


@pytest.mark.parametrize("seed", sorted(known.SEEDS))
def test_every_confusion_row_is_the_count_of_its_true_and_predicted_class(results, seed):
    run = results[1][seed]
    confusion = pd.read_csv(results[0] / "confusion.csv")
    cells = confusion[confusion["seed"] == seed]
    assert len(cells) == 100
    for true, predicted, count in cells[["true", "predicted", "count"]].itertuples(index=False):
        assert count == run.cell(true, predicted), (true, predicted)


def test_confusion_long_form_names_the_true_class_first(results):
    confusion = pd.read_csv(results[0] / "confusion.csv").set_index(["seed", "true", "predicted"])
    assert confusion.loc[(0, 3, 5), "count"] == 2  # two 3s taken for 5s
    assert confusion.loc[(0, 5, 3), "count"] == 0


def test_history_holds_each_epochs_loss_and_seconds_per_run(results):
    history = pd.read_csv(results[0] / "history.csv")
    for seed, chosen in known.SEEDS.items():
        epochs = history[history["seed"] == seed].sort_values("epoch")
        assert epochs["epoch"].tolist() == list(range(1, known.EPOCHS + 1))
        assert epochs["train_loss"].tolist() == chosen["train_loss"]
        assert epochs["seconds"].tolist() == chosen["train_seconds"]
        assert (
            epochs[["dataset", "variant", "backend"]].values == [known.DATASET, "mlp", "numpy"]
        ).all()
