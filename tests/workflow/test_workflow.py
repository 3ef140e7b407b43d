"""The real Snakemake running the real DAG on config/quick.yaml and the MNIST sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from mnistbench.plugins import load_backends
from tests.conftest import SAMPLE_DATASET, SAMPLE_TEST, SAMPLE_TRAIN
from tests.workflow.runner import copy_workflow, run_snakemake

REPO = Path(__file__).resolve().parents[2]
QUICK = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of the workflow, run once end to end with the quick config."""
    work = copy_workflow(tmp_path_factory.mktemp("workflow"))
    result = run_snakemake(work, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return work


def test_summary_has_one_row_per_variant_backend_and_seed(workdir):
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    expected = {
        (variant, backend, seed)
        for variant in CONFIG["variants"]
        for backend in load_backends().available()
        for seed in QUICK["seeds"]
    }
    assert set(zip(summary["variant"], summary["backend"], summary["seed"])) == expected
    assert len(summary) == len(expected)
    assert (summary["dataset"] == SAMPLE_DATASET).all()
    assert (summary["train_samples"] == SAMPLE_TRAIN).all()


def test_mlp_learns_in_one_quick_epoch_on_both_backends(workdir):
    summary = pd.read_csv(workdir / "results" / "summary.csv").set_index(["variant", "backend"])
    assert summary.loc[("mlp", "numpy"), "test_accuracy"].min() > 0.85
    assert summary.loc[("mlp", "torch"), "test_accuracy"].min() > 0.85


def test_report_and_tables_are_written(workdir):
    html = (workdir / "results" / "report.html").read_text()
    assert "mnistbench report" in html and "mlp" in html
    confusion = pd.read_csv(workdir / "results" / "confusion.csv")
    assert confusion.groupby(["variant", "backend", "seed"])["count"].sum().eq(SAMPLE_TEST).all()


def test_train_jobs_are_benchmarked_by_snakemake(workdir):
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    assert (summary["job_wall_seconds"] > 0).all()
    assert (summary["peak_rss_mb"] > 50).all()  # Python with NumPy alone takes more


def test_every_job_wrote_its_log(workdir):
    logs = sorted(
        p.relative_to(workdir / "logs").as_posix() for p in (workdir / "logs").rglob("*.log")
    )
    assert f"train/{SAMPLE_DATASET}/mlp/numpy/seed0.log" in logs and "report.log" in logs


def test_a_second_dry_run_has_nothing_to_do(workdir):
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changing_a_learning_rate_in_a_config_file_reruns_only_that_variants_runs(workdir):
    (workdir / "lr.yaml").write_text("hyperparameters:\n  mlp:\n    lr: 0.05\n")
    result = run_snakemake(workdir, "--dry-run", configfiles=["lr.yaml"])
    output = result.stdout + result.stderr
    assert result.returncode == 0
    assert "train_model" in output and "fetch_dataset_file" not in output
    assert "variant=mlp" in output
    for other in set(CONFIG["variants"]) - {"mlp"}:
        assert f"variant={other}," not in output  # only the runs the change touches


def test_a_backends_override_on_the_command_line_limits_the_runs(workdir):
    result = run_snakemake(workdir, "--config", "backends=[numpy]", "--dry-run")
    output = result.stdout + result.stderr
    assert result.returncode == 0  # the numpy runs exist already: only aggregation changes
    assert "aggregate_results" in output and "train_model" not in output
