"""The real Snakemake running the real DAG on config/quick.yaml and the MNIST sample."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mnistbench.plugin.backend import implementations
from mnistbench.plugin.registry import load_backends
from mnistbench.report import render
from mnistbench.training import provenance
from mnistbench.variants import VARIANTS
from tests.conftest import SAMPLE_DATASET, SAMPLE_TEST, SAMPLE_TRAIN
from tests.workflow.runner import SAMPLE_CONFIG, copy_workflow, run_snakemake

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


def quick_runs() -> set[tuple[str, str, str, int]]:
    """(variant, backend, implementation, seed) of every run of the quick config: each
    backend's first way, and PyTorch's autograd beside its tuned steps but on mnn (config.yaml's
    implementations)."""
    runs = set()
    for backend in load_backends().available():
        for variant in VARIANTS:  # config.yaml's variants: all
            ways = implementations(load_backends().backends[backend], variant)
            chosen = ways[:1]
            if backend == "torch" and variant != "mnn":
                chosen = [w for w in ("tuned", "autograd") if w in ways]
            runs |= {(variant, backend, way, seed) for way in chosen for seed in QUICK["seeds"]}
    return runs


def test_summary_has_one_row_per_variant_backend_implementation_and_seed(workdir):
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    found = zip(summary["variant"], summary["backend"], summary["implementation"], summary["seed"])
    assert set(found) == quick_runs()
    assert ("mlp", "torch", "autograd", 0) in quick_runs()
    assert len(summary) == len(quick_runs())
    assert (summary["dataset"] == SAMPLE_DATASET).all()
    assert (summary["train_samples"] == SAMPLE_TRAIN).all()


def test_mlp_learns_in_one_quick_epoch_on_both_backends(workdir):
    summary = pd.read_csv(workdir / "results" / "summary.csv").set_index(["variant", "backend"])
    assert summary.loc[("mlp", "numpy"), "test_accuracy"].min() > 0.85
    assert summary.loc[("mlp", "torch"), "test_accuracy"].min() > 0.85


def run_folders(workdir: Path) -> dict[tuple[str, str, str, int], Path]:
    """(variant, backend, point, seed) -> the run's results folder."""
    return {
        (path.parts[-4], path.parts[-3], path.parts[-2], int(path.name.removeprefix("seed"))): path
        for path in (workdir / "results").glob("*/*/*/*/seed*")
    }


def summary_row(summary: pd.DataFrame, variant: str, backend: str, point: str, seed: int):
    """The summary's row of one run."""
    of_run = (
        (summary["variant"] == variant)
        & (summary["backend"] == backend)
        & (summary["point"] == point)
        & (summary["seed"] == seed)
    )
    [index] = summary.index[of_run]
    return summary.loc[index]


def test_report_is_what_the_report_step_makes_of_the_final_tables(workdir, monkeypatch):
    """Its numbers are checked in tests/report/test_report_numbers.py; here, that the page is
    the one made from this run's tables (the generation time aside)."""
    # what differs between two renderings: the time, and the random ids pandas gives tables
    varying = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC|T_[0-9a-f]{5}")
    html = (workdir / "results" / "report.html").read_text()
    settings = render.Settings(
        baseline=CONFIG["report"]["baseline"],
        time_to_accuracy=dict(sorted(CONFIG["report"]["time_to_accuracy"].items())),
        configfiles=("config/config.yaml", "config/quick.yaml", SAMPLE_CONFIG),
        planned_out=workdir / "results" / "planned_out.csv",
    )
    monkeypatch.chdir(workdir)  # where the step ran: it shows the config files read there
    expected = render.render(workdir / "results", settings)
    assert varying.sub("", html) == varying.sub("", expected)


def test_the_report_shows_the_commit_the_cpu_the_config_files_and_the_quick_epochs(workdir):
    html = (workdir / "results" / "report.html").read_text()
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    assert head.stdout.strip() in html  # the checkout the package was imported from
    assert escape(provenance.cpu_model()) in html
    assert f"<code>config/quick.yaml</code>, <code>{SAMPLE_CONFIG}</code>" in html
    assert "epochs 1 (source notebook: 20)" in html  # why the quick mlp run trails the notebook
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_every_run_names_the_libraries_that_did_its_arithmetic_and_the_report_shows_them(
    workdir,
):
    provenance_csv = pd.read_csv(workdir / "results" / "provenance.csv", dtype=str)
    html = (workdir / "results" / "report.html").read_text()
    expected = {
        "numpy": ["kernels: BLAS from numpy", "kernels: BLAS from scipy"],  # two OpenBLAS copies
        "torch": ["kernels: BLAS from torch", "kernels: OpenMP from torch"],
    }
    for (backend, seed), run in provenance_csv.groupby(["backend", "seed"]):
        items = dict(zip(run["item"], run["value"]))
        assert items["threads"] == "1" and items["CUDA"] == items["cuDNN"] == "none"
        assert {"scipy", "numba", "jaxlib", "threadpoolctl"} <= set(items)
        kernels = {item: value for item, value in items.items() if item.startswith("kernels: ")}
        assert kernels and all(", 1 thread" in value for value in kernels.values()), kernels
        for item in expected.get(backend, []):
            assert item in kernels, f"{backend} seed {seed}: {sorted(kernels)}"
            shown = f"<td>{escape(item)} ({backend} runs)</td><td>{escape(kernels[item])}</td>"
            assert shown in html


def test_the_report_is_light_and_its_figures_hold_their_text_as_text(workdir):
    html = (workdir / "results" / "report.html").read_text()
    # 22 runs; with glyph outlines in base64 SVG the 18 runs' page was 749 KB
    assert len(html.encode()) < 425_000
    assert "data:image/svg+xml" not in html  # (the heat maps stay PNG images inside the SVG)
    figures = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(figures) >= 3
    texts = [re.findall(r"<text [^>]*>([^<]+)</text>", figure) for figure in figures]
    assert all(texts), "a figure without text elements"
    assert any("test accuracy (fraction)" in found for found in texts)


def test_snakemake_report_carries_every_table_and_the_page(workdir):
    result = run_snakemake(workdir, "--report", "report.zip")
    assert result.returncode == 0, result.stderr[-2000:]
    with zipfile.ZipFile(workdir / "report.zip") as archive:
        names = {Path(name).name for name in archive.namelist()}
    tables = {"summary", "confusion", "history", "provenance", *render.CSV_TABLES}
    assert {f"{table}.csv" for table in tables} | {"report.html"} <= names


def test_confusion_table_holds_each_runs_matrix_and_accuracy_its_diagonal(workdir):
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    confusion = pd.read_csv(workdir / "results" / "confusion.csv")
    runs = run_folders(workdir)
    assert len(runs) == len(summary)
    for (variant, backend, point, seed), folder in runs.items():
        metrics = json.loads((folder / "metrics.json").read_text())
        of_run = (
            (confusion["variant"] == variant)
            & (confusion["backend"] == backend)
            & (confusion["point"] == point)
            & (confusion["seed"] == seed)
        )
        matrix = confusion[of_run].pivot(index="true", columns="predicted", values="count")
        assert matrix.to_numpy().tolist() == metrics["confusion_matrix"]
        assert matrix.to_numpy().sum() == SAMPLE_TEST
        accuracy = summary_row(summary, variant, backend, point, seed)["test_accuracy"]
        assert accuracy == pytest.approx(np.trace(matrix.to_numpy()) / SAMPLE_TEST, abs=1e-12)


def test_summary_times_are_each_runs_benchmark_and_history(workdir):
    """Job wall time from Snakemake's benchmark file, which includes the training measured
    inside it; train time and throughput from the run's own history; memory from train.json."""
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    for (variant, backend, point, seed), folder in run_folders(workdir).items():
        row = summary_row(summary, variant, backend, point, seed)
        benchmark = pd.read_csv(folder / "train_benchmark.tsv", sep="\t")
        history = pd.read_csv(folder / "history.csv")
        info = json.loads((folder / "train.json").read_text())
        assert row["job_wall_seconds"] == pytest.approx(benchmark["s"].iloc[0])
        assert row["job_wall_seconds"] > row["train_seconds"] > 0
        assert row["train_seconds"] == pytest.approx(history["seconds"].sum())
        throughput = history["samples"].sum() / history["seconds"].sum()
        assert row["samples_per_second"] == pytest.approx(throughput)
        assert row["epochs"] == len(history)
        assert row["peak_rss_mb"] == pytest.approx(info["peak_rss_mb"])
        assert row["peak_rss_mb"] > 50  # Python with NumPy alone takes more


def test_every_job_wrote_its_log(workdir):
    logs = sorted(
        p.relative_to(workdir / "logs").as_posix() for p in (workdir / "logs").rglob("*.log")
    )
    assert f"train/{SAMPLE_DATASET}/mlp/numpy/default/seed0.log" in logs and "report.log" in logs


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
    for other in set(VARIANTS) - {"mlp"}:
        assert f"variant={other}," not in output  # only the runs the change touches


def test_a_backends_override_on_the_command_line_limits_the_runs(workdir):
    result = run_snakemake(workdir, "--config", "backends=[numpy]", "--dry-run")
    output = result.stdout + result.stderr
    assert result.returncode == 0  # the numpy runs exist already: only aggregation changes
    assert "aggregate_results" in output and "train_model" not in output
