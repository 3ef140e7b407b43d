"""The numbers ``aggregate`` writes to its CSV tables, read back and checked against known runs.

The runs come from :mod:`tests.known`: their predictions and train figures were chosen, so each
cell of ``summary.csv``, ``confusion.csv`` and ``history.csv`` has a value fixed beforehand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mnistbench.cli import main
from mnistbench.errors import MnistbenchError
from mnistbench.report import aggregate
from tests import known


# Function scope: mutmut credits a fixture's work to the first test that used it only.
@pytest.fixture
def results(tmp_path):
    """(tables folder, known runs): the aggregate command run on the known runs' metrics."""
    root = tmp_path
    _, runs = known.write_results(root)
    out = root / "tables"
    paths = [str(run.directory / "metrics.json") for run in runs.values()]
    assert main(["aggregate", *paths, "--out", str(out)]) == 0
    return out, runs


@pytest.fixture
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


# --- runs without a result -----------------------------------------------------------------------


@pytest.fixture
def known_runs(tmp_path):
    _, runs = known.write_results(tmp_path)
    return tmp_path, runs


def log_file(root, step: str, seed: int):
    path = root / "logs" / step / known.DATASET / "mlp" / "numpy" / "default" / f"seed{seed}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def drop_from_metrics(run, *keys: str) -> Path:
    """Remove ``keys`` from ``run``'s metrics.json, as a file from an older mnistbench lacks
    them; return its path."""
    path = run.directory / "metrics.json"
    metrics = json.loads(path.read_text())
    for key in keys:
        del metrics[key]
    path.write_text(json.dumps(metrics))
    return path


def summary_of(root, runs, *extra_seeds: int):
    paths = [run.directory / "metrics.json" for run in runs.values()]
    paths += [runs[0].directory.parent / f"seed{seed}" / "metrics.json" for seed in extra_seeds]
    return aggregate.tables(paths, allow_missing=True)["summary"].set_index("seed")


def test_a_run_whose_jobs_never_ran_is_missing(known_runs):
    root, runs = known_runs
    row = summary_of(root, runs, 5).loc[5]
    assert (row["status"], row["reason"]) == ("missing", "its jobs did not run")
    assert pd.isna(row["test_accuracy"])


def test_a_failed_job_gives_the_last_error_line_of_its_log(known_runs):
    root, runs = known_runs
    log_file(root, "train", 5).write_text(
        "starting\nmnistbench train: error: first\nmore\nmnistbench train: error: out of memory\n"
        "Traceback ...\n"
    )
    row = summary_of(root, runs, 5).loc[5]
    assert (row["status"], row["reason"]) == ("failed", "train: out of memory")


def test_the_evaluate_log_is_read_before_the_train_log(known_runs):
    root, runs = known_runs
    log_file(root, "train", 5).write_text("all fine\n")
    log_file(root, "evaluate", 5).write_text("mnistbench evaluate: error: weights damaged\n")
    row = summary_of(root, runs, 5).loc[5]
    assert row["reason"] == "evaluate: weights damaged"


def test_a_log_without_an_error_line_gives_its_last_line(known_runs):
    root, runs = known_runs
    log_file(root, "train", 5).write_text("first\n  Killed  \n\n\n")
    assert summary_of(root, runs, 5).loc[5, "reason"] == "train: Killed"


def test_an_empty_log_points_at_itself(known_runs):
    root, runs = known_runs
    log = log_file(root, "train", 5)
    log.write_text("\n")
    assert summary_of(root, runs, 5).loc[5, "reason"] == (
        f"train: failed without a message (see {log})"
    )


def test_a_diverged_run_says_where_and_has_no_confusion_rows(known_runs):
    root, runs = known_runs
    path = runs[1].directory / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics |= {"status": "diverged", "diverged": {"epoch": 2, "step": 3}}
    metrics |= {"test_accuracy": None, "confusion_matrix": None}
    path.write_text(json.dumps(metrics))
    tables = aggregate.tables([run.directory / "metrics.json" for run in runs.values()])
    row = tables["summary"].set_index("seed").loc[1]
    assert (row["status"], row["reason"]) == ("diverged", "loss not finite at epoch 2, step 3")
    assert pd.isna(row["test_accuracy"])
    assert set(tables["confusion"]["seed"]) == {0}
    assert set(tables["history"]["seed"]) == {0, 1}  # its learning curve up to the divergence


def test_no_finished_run_is_an_error(known_runs):
    root, runs = known_runs
    missing = [runs[0].directory.parent / "seed9" / "metrics.json"]
    with pytest.raises(MnistbenchError, match="no run finished: nothing to aggregate"):
        aggregate.tables(missing, allow_missing=True)
    with pytest.raises(MnistbenchError, match="no metrics files given"):
        aggregate.tables([])


def test_a_file_missing_keys_is_named_with_what_it_lacks(known_runs):
    root, runs = known_runs
    path = drop_from_metrics(runs[0], "test_accuracy", "seed")
    with pytest.raises(MnistbenchError) as error:
        aggregate.tables([path])
    assert str(error.value) == f"{path}: not a metrics file (missing seed, test_accuracy)"


def test_a_run_without_a_benchmark_file_has_a_blank_job_time(known_runs):
    root, runs = known_runs
    (runs[0].directory / "train_benchmark.tsv").unlink()
    summary = summary_of(root, runs)
    assert pd.isna(summary.loc[0, "job_wall_seconds"])
    assert summary.loc[1, "job_wall_seconds"] == runs[1].job_wall_seconds


# --- layout of the tables ------------------------------------------------------------------------


def test_summary_columns_come_in_their_documented_order(results):
    header = (results[0] / "summary.csv").read_text().splitlines()[0].split(",")
    assert header == [
        *["dataset", "variant", "backend", "point", "seed", "status", "reason", "device"],
        *["implementation", "test_accuracy", "final_train_loss", "epochs", "train_samples"],
        *["test_samples", "train_limit", "test_limit", "train_seconds", "setup_seconds"],
        *["attempts", "samples_per_second"],
        *["predict_seconds", "predict_samples_per_second"],
        *["peak_rss_mb", "train_memory_mb", "job_wall_seconds", "backend_version"],
        "hyperparameters",
        "predictions",
    ]


def test_hyperparameters_are_json_with_sorted_keys(summary):
    assert summary.loc[0, "hyperparameters"] == (
        '{"batch_size": 8, "epochs": 2, "hidden": 10, "lr": 0.1}'
    )


def test_metrics_without_a_status_read_as_ok(known_runs):
    root, runs = known_runs
    drop_from_metrics(runs[0], "status")
    row = summary_of(root, runs).loc[0]
    assert (row["status"], row["reason"]) == ("ok", "")


def test_rows_are_sorted_by_dataset_variant_backend_seed_and_epoch(known_runs):
    """Copies of one run under other names, given in scrambled order, come out sorted."""
    root, runs = known_runs
    source = runs[0].directory
    paths = []
    for dataset, variant, backend, seed in [
        ("b", "mlp", "numpy", 0),
        ("a", "zeta", "numpy", 3),
        ("a", "alpha", "torch", 0),
        ("a", "alpha", "numpy", 10),
        ("a", "alpha", "numpy", 2),
    ]:
        folder = root / "copies" / dataset / variant / backend / f"seed{seed}"
        folder.mkdir(parents=True)
        metrics = json.loads((source / "metrics.json").read_text())
        metrics |= {"dataset": dataset, "variant": variant, "backend": backend, "seed": seed}
        (folder / "metrics.json").write_text(json.dumps(metrics))
        history = pd.read_csv(source / "history.csv").iloc[::-1]  # epochs in reverse order
        history.to_csv(folder / "history.csv", index=False)
        paths.append(folder / "metrics.json")
    tables = aggregate.tables(paths)
    expected = [
        ("a", "alpha", "numpy", 2),
        ("a", "alpha", "numpy", 10),
        ("a", "alpha", "torch", 0),
        ("a", "zeta", "numpy", 3),
        ("b", "mlp", "numpy", 0),
    ]
    keys = ["dataset", "variant", "backend", "seed"]
    assert list(tables["summary"][keys].itertuples(index=False, name=None)) == expected
    runs_in_confusion = tables["confusion"][keys].drop_duplicates()
    assert list(runs_in_confusion.itertuples(index=False, name=None)) == expected
    first = tables["confusion"].iloc[:100]
    assert first[["true", "predicted"]].values.tolist() == [
        [t, p] for t in range(10) for p in range(10)
    ]
    history = tables["history"]
    assert list(history.columns[:6]) == [*keys[:3], "point", "seed", "epoch"]
    assert history["epoch"].tolist() == [1, 2] * len(expected)
    assert list(history[keys].drop_duplicates().itertuples(index=False, name=None)) == expected


def test_the_command_writes_the_four_tables_and_nothing_else(results):
    assert sorted(p.name for p in results[0].iterdir()) == [
        "confusion.csv",
        "history.csv",
        "provenance.csv",
        "summary.csv",
    ]


def test_run_writes_each_table_as_csv_and_returns_where(known_runs):
    root, runs = known_runs
    paths = [run.directory / "metrics.json" for run in runs.values()]
    written = aggregate.run(paths, root / "tables")
    for name in ["summary", "confusion", "history"]:
        assert written[name] == root / "tables" / f"{name}.csv"
        assert len(pd.read_csv(written[name])) > 0


# --- edges of the inputs -------------------------------------------------------------------------


def test_a_missing_metrics_file_is_an_error_unless_missing_runs_are_allowed(known_runs):
    root, runs = known_runs
    absent = runs[0].directory.parent / "seed5" / "metrics.json"
    for call in (aggregate.tables, lambda p: aggregate.run(p, root / "tables")):
        with pytest.raises(MnistbenchError, match=f"^{absent}: cannot read JSON"):
            call([runs[0].directory / "metrics.json", absent])
    assert not (root / "tables").exists()


def test_runs_after_a_missing_one_are_all_aggregated(known_runs):
    root, runs = known_runs
    absent = runs[0].directory.parent / "seed5" / "metrics.json"
    paths = [absent, *(run.directory / "metrics.json" for run in runs.values())]
    summary = aggregate.tables(paths, allow_missing=True)["summary"]
    assert summary["seed"].tolist() == [0, 1, 5]


def test_the_errors_when_there_is_nothing_to_aggregate_are_exact(known_runs):
    root, runs = known_runs
    absent = runs[0].directory.parent / "seed9" / "metrics.json"
    with pytest.raises(MnistbenchError) as error:
        aggregate.tables([absent], allow_missing=True)
    assert str(error.value) == "no run finished: nothing to aggregate"
    with pytest.raises(MnistbenchError) as error:
        aggregate.tables([])
    assert str(error.value) == "no metrics files given"


def test_a_log_that_is_not_utf8_still_gives_its_error_line(known_runs):
    root, runs = known_runs
    log_file(root, "train", 5).write_bytes(
        b"\xff\xfe garbage\nmnistbench train: error: disk full\n"
    )
    assert summary_of(root, runs, 5).loc[5, "reason"] == "train: disk full"


def test_a_diverged_run_that_does_not_say_where_has_no_reason(known_runs):
    root, runs = known_runs
    path = runs[1].directory / "metrics.json"
    metrics = json.loads(path.read_text()) | {"status": "diverged", "diverged": None}
    path.write_text(json.dumps(metrics | {"test_accuracy": None, "confusion_matrix": None}))
    row = summary_of(root, runs).loc[1]
    assert (row["status"], row["reason"]) == ("diverged", "")


def test_metrics_without_hyperparameters_record_an_empty_object(known_runs):
    root, runs = known_runs
    drop_from_metrics(runs[0], "hyperparameters")
    assert summary_of(root, runs).loc[0, "hyperparameters"] == "{}"


def test_with_no_confusion_matrix_at_all_the_confusion_table_keeps_its_columns(known_runs):
    root, runs = known_runs
    for run in runs.values():
        path = run.directory / "metrics.json"
        metrics = json.loads(path.read_text()) | {"status": "diverged", "confusion_matrix": None}
        path.write_text(json.dumps(metrics | {"diverged": {"epoch": 1, "step": 1}}))
    written = aggregate.run([run.directory / "metrics.json" for run in runs.values()], root / "t")
    header = written["confusion"].read_text().splitlines()
    assert header == ["dataset,variant,backend,point,seed,true,predicted,count"]


def test_provenance_lists_every_item_of_each_run_with_its_device(results):
    from mnistbench.training import provenance

    table = pd.read_csv(results[0] / "provenance.csv", keep_default_na=False)
    assert list(table.columns) == [
        *["dataset", "variant", "backend", "point", "seed", "device", "item", "value"]
    ]
    for seed, run in results[1].items():
        metrics = json.loads((run.directory / "metrics.json").read_text())
        mine = table[table["seed"] == seed]
        assert set(mine["device"]) == {"cpu"}
        expected = {k: str(v) for k, v in provenance.flatten(metrics).items()}
        assert dict(zip(mine["item"], mine["value"].astype(str), strict=True)) == expected


def test_a_run_that_does_not_name_its_device_has_a_blank_one_in_provenance(known_runs):
    root, runs = known_runs
    drop_from_metrics(runs[0], "device")
    paths = [run.directory / "metrics.json" for run in runs.values()]
    origins = aggregate.tables(paths)["provenance"]
    assert set(origins.loc[origins["seed"] == 0, "device"]) == {""}
    assert set(origins.loc[origins["seed"] != 0, "device"]) == {"cpu"}
