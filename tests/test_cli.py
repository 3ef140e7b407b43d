"""Each step is a command that runs, and fails cleanly, without Snakemake."""

from __future__ import annotations

import json
import os
import subprocess

import pandas as pd
import pytest

from mnistbench.cli import main
from mnistbench.plugin.registry import load_backends
from mnistbench.training import provenance
from tests.cli import run_cli
from tests.conftest import REPO


def train_args(data, out, *extra: str, backend: str = "numpy") -> list[str]:
    """Arguments of a train step for mlp, seed 0, with ``extra`` options appended."""
    fixed = f"train --dataset mnist --variant mlp --seed 0 --backend {backend}".split()
    return [*fixed, "--data", str(data), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def trained_run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "mnist" / "mlp" / "numpy" / "seed0"
    limits = ["--hparams", '{"epochs": 2}', "--train-limit", "800", "--test-limit", "300"]
    status = main(train_args(sample_dir, out, *limits))
    assert status == 0
    return out


def test_train_writes_weights_history_and_info(trained_run):
    history = pd.read_csv(trained_run / "history.csv")
    assert list(history.columns[:4]) == ["epoch", "train_loss", "test_accuracy", "seconds"]
    assert history["epoch"].tolist() == [1, 2]
    info = json.loads((trained_run / "train.json").read_text())
    assert info["train_samples"] == 800 and info["hyperparameters"]["epochs"] == 2
    assert info["train_seconds"] == pytest.approx(history["seconds"].sum())


def test_train_records_the_projects_commit_cpu_model_and_threads(trained_run):
    info = json.loads((trained_run / "train.json").read_text())
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    assert info["project"]["commit"] == head.stdout.strip()
    assert info["machine"]["cpu_model"] == provenance.cpu_model() != "unknown"
    assert info["machine"]["threads"] == os.environ["OMP_NUM_THREADS"]  # set by conftest


def test_weights_file_holds_plain_arrays_without_pickle(trained_run):
    import numpy as np

    with np.load(trained_run / "weights.npz", allow_pickle=False) as weights:
        assert sorted(weights.files) == ["W1", "W2", "b1", "b2"]
        assert weights["W1"].shape == (784, 300) and weights["W1"].dtype == np.float32


def test_evaluate_with_the_other_backend_gives_the_same_accuracy(trained_run, sample_dir, tmp_path):
    assert main(["evaluate", "--data", str(sample_dir), "--run", str(trained_run)]) == 0
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(sample_dir),
                "--run",
                str(trained_run),
                "--backend",
                "torch",
                "--out",
                str(tmp_path / "by_torch.json"),
            ]
        )
        == 0
    )
    own = json.loads((trained_run / "metrics.json").read_text())
    other = json.loads((tmp_path / "by_torch.json").read_text())
    assert other["evaluated_by"] == "torch"
    assert other["test_accuracy"] == own["test_accuracy"]
    assert sum(map(sum, own["confusion_matrix"])) == 300
    assert own["test_accuracy"] == pytest.approx(
        sum(own["confusion_matrix"][i][i] for i in range(10)) / 300
    )


def test_aggregate_and_report_from_metrics(trained_run, sample_dir, tmp_path):
    main(["evaluate", "--data", str(sample_dir), "--run", str(trained_run)])
    assert main(["aggregate", str(trained_run / "metrics.json"), "--out", str(tmp_path)]) == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary[["dataset", "variant", "backend", "seed"]].values.tolist() == [
        ["mnist", "mlp", "numpy", 0]
    ]
    assert json.loads(summary["hyperparameters"][0])["epochs"] == 2  # what ran, not defaults
    confusion = pd.read_csv(tmp_path / "confusion.csv")
    assert len(confusion) == 100 and confusion["count"].sum() == 300
    assert main(["report", "--tables", str(tmp_path), "--out", str(tmp_path / "report.html")]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "mnistbench report" in html and '<div class="chart" role="img"' in html
    assert "Hyperparameters of these runs:" in html  # a table: a column each, not JSON
    assert '<th scope="col">batch_size</th><th scope="col">epochs</th>' in html


def test_unknown_backend_is_one_line_and_leaves_nothing(sample_dir, tmp_path):
    result = run_cli(*train_args(sample_dir, tmp_path / "run", backend="mxnet"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "mnistbench train: error: backend 'mxnet' is not installed "
        f"(installed: {', '.join(sorted(load_backends().backends))})"
    )
    assert not (tmp_path / "run").exists()


def test_unknown_hyperparameter_is_one_line(sample_dir, tmp_path):
    result = run_cli(
        *train_args(sample_dir, tmp_path / "run", "--hparams", '{"learning_rate": 0.1}')
    )
    assert result.returncode == 1
    assert "variant 'mlp': unknown hyperparameter(s) learning_rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_unavailable_device_is_one_line(sample_dir, tmp_path):
    result = run_cli(*train_args(sample_dir, tmp_path / "run", "--device", "cuda"))
    assert result.returncode == 1
    assert "backend 'numpy': device 'cuda' is not available here (available: cpu)" in result.stderr


def test_aggregate_refuses_a_file_that_is_not_metrics_in_one_line(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text('{"dataset": "mnist"}')
    result = run_cli("aggregate", str(bad), "--out", str(tmp_path / "tables"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"mnistbench aggregate: error: {bad}: not a metrics file "
        "(missing variant, backend, seed, test_accuracy, confusion_matrix)"
    )
    assert not (tmp_path / "tables").exists()


def test_report_without_tables_is_one_line_and_writes_nothing(tmp_path):
    result = run_cli("report", "--tables", str(tmp_path), "--out", str(tmp_path / "r.html"))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"mnistbench report: error: cannot read the aggregated tables in {tmp_path}")
    )
    assert not (tmp_path / "r.html").exists()
