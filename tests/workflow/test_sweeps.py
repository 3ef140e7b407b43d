"""Sweeps on the real Snakemake and the MNIST sample: a point is one more axis of a run.

One finished two-point sweep of mlp's batch size on NumPy (the quick config), then: its folders
and summary columns, the report's sweep section read back from the HTML, a dry run after adding
one value (only the new point runs), overrides typed as users type them, each bad sweep refused
in one line, and ``compare`` across two sweeps matching runs by point.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATASET
from tests.workflow.runner import REPO, copy_workflow, run_snakemake

pytestmark = pytest.mark.slow
ONE_VARIANT = ["variants=[mlp]", "backends=[numpy]"]
SWEEP = "sweeps={mlp: {batch_size: [8, 32]}}"
DOWNSTREAM = {"aggregate_results", "write_report", "all"}


def planned(result: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    """(rule, point) of each job a dry run plans; (rule, "") for the jobs without a point."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    jobs, rule = set(), None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            if rule:
                jobs.add((rule, ""))
            rule = line.split()[1].rstrip(":")
        elif line.startswith("wildcards:") and rule:
            point = re.search(r"point=([^ ]+?)(, seed=|$)", line)
            jobs.add((rule, point.group(1) if point else ""))
            rule = None
    if rule:
        jobs.add((rule, ""))
    return jobs


def refusal(result: subprocess.CompletedProcess) -> list[str]:
    """The one-line planning errors (``mnistbench: config: ...``) of a refused run."""
    assert result.returncode != 0
    output = (result.stdout + result.stderr).splitlines()
    return [line for line in output if line.startswith("mnistbench: config:")]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The workflow after one finished sweep of batch sizes 8 and 32."""
    work = copy_workflow(tmp_path_factory.mktemp("sweep"))
    result = run_snakemake(work, "--config", *ONE_VARIANT, SWEEP)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return work


def test_each_point_is_a_folder_named_by_its_setting(swept):
    runs = swept / "results" / SAMPLE_DATASET / "mlp" / "numpy"
    assert sorted(p.name for p in runs.iterdir()) == ["batch_size=32", "batch_size=8"]
    assert (runs / "batch_size=8" / "seed0" / "metrics.json").is_file()


def test_the_summary_has_a_point_and_a_column_per_swept_setting(swept):
    summary = pd.read_csv(swept / "results" / "summary.csv")
    assert list(summary.columns[:6]) == [
        *["dataset", "variant", "backend", "point", "seed", "batch_size"]
    ]
    assert sorted(zip(summary["point"], summary["batch_size"])) == [
        ("batch_size=32", 32),
        ("batch_size=8", 8),
    ]
    used = summary.set_index("batch_size")["hyperparameters"]
    assert '"batch_size": 32' in used[32] and '"batch_size": 8' in used[8]


def test_history_confusion_and_provenance_carry_the_swept_column(swept):
    for name in ("history", "confusion", "provenance"):
        table = pd.read_csv(swept / "results" / f"{name}.csv")
        assert set(table["batch_size"]) == {8, 32}, name
        assert set(table["point"]) == {"batch_size=8", "batch_size=32"}, name


def test_the_report_has_a_sweep_section_with_points_backends_and_axes(swept):
    html = (swept / "results" / "report.html").read_text()
    [section] = re.findall(r'<section class="sweep"([^>]*)>', html)
    attributes = dict(re.findall(r'data-(\w+)="([^"]*)"', section))
    assert attributes == {
        "variant": "mlp",
        "dataset": SAMPLE_DATASET,
        "points": "2",
        "axes": "batch_size",
        "backends": "numpy",
    }
    assert "against batch_size, one line per backend (numpy)" in html


def test_adding_a_value_runs_only_the_new_point(swept):
    more = "sweeps={mlp: {batch_size: [8, 32, 128]}}"
    result = run_snakemake(swept, "-n", "--config", *ONE_VARIANT, more)
    run_jobs = {job for job in planned(result) if job[0] not in DOWNSTREAM}
    assert run_jobs == {("train_model", "batch_size=128"), ("evaluate_model", "batch_size=128")}


def test_the_same_value_written_another_way_is_the_same_point(swept):
    result = run_snakemake(
        swept, "-n", "--config", *ONE_VARIANT, "sweeps={mlp: {batch_size: [8, 3.2e+1]}}"
    )
    assert {job for job in planned(result) if job[0] not in DOWNSTREAM} == set()


def test_a_removed_value_leaves_the_report_and_stays_on_disk(tmp_path, swept):
    work = tmp_path / "copy"
    shutil.copytree(swept, work)  # with Snakemake's records of what made each output
    result = run_snakemake(work, "--config", *ONE_VARIANT, "sweeps={mlp: {batch_size: [8]}}")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = pd.read_csv(work / "results" / "summary.csv")
    assert summary["point"].tolist() == ["batch_size=8"]
    kept = work / "results" / SAMPLE_DATASET / "mlp" / "numpy" / "batch_size=32" / "seed0"
    assert (kept / "metrics.json").is_file()


def test_thread_counts_and_devices_typed_as_lists_are_axes(swept):
    result = run_snakemake(
        swept, "-n", "--config", *ONE_VARIANT, "threads=[1,2]", "devices={numpy: [cpu]}"
    )
    points = {point for rule, point in planned(result) if rule == "train_model"}
    assert points == {"device=cpu,threads=1", "device=cpu,threads=2"}


def test_listed_points_are_planned_as_given(swept):
    listed = "sweeps={mlp: {points: [{batch_size: 8, lr: 0.1}, {batch_size: 64, lr: 4e-1}]}}"
    result = run_snakemake(swept, "-n", "--config", *ONE_VARIANT, listed)
    points = {point for rule, point in planned(result) if rule == "train_model"}
    assert points == {"batch_size=8,lr=0.1", "batch_size=64,lr=0.4"}


@pytest.mark.parametrize(
    ("sweep", "line"),
    [
        ("{mlp: {depth: [2]}}", "config: sweeps.mlp.depth: 'mlp' has no setting 'depth'"),
        ("{mlp: {batch_size: []}}", "config: sweeps.mlp.batch_size: got [], it should be"),
        ("{mlp: {batch_size: [0]}}", "config: sweeps.mlp.batch_size: 0 refused: variant 'mlp'"),
        ("{mlp: {lr: [0.05, 5.0e-2]}}", "config: sweeps.mlp.lr: two values name the same point"),
        ("{mlp: {lr: [fast]}}", "config: sweeps.mlp.lr[0]: got 'fast', which is not a number"),
        ("{mlp: {points: [{lr: 1}], batch_size: [8]}}", "config: sweeps.mlp: both points and a"),
        ("{mpl: {lr: [1]}}", "config: sweeps: unknown variant 'mpl'"),
        ("{mlp: {lr: [0.1, 1e400]}}", "config: sweeps.mlp.lr[1]: inf is not a finite number"),
        (
            "{mlp: {batch_size: [8, 32, 1e20]}}",
            "config: sweeps.mlp.batch_size: 100000000000000000000 is more than the 3000 training"
            " images of dataset 'mnist-sample'; a batch is at most the training set",
        ),
    ],
)
def test_a_bad_sweep_is_refused_in_one_line(swept, sweep, line):
    result = run_snakemake(swept, "-n", "--config", *ONE_VARIANT, f"sweeps={sweep}")
    [error] = refusal(result)
    assert error.startswith(f"mnistbench: {line}"), error


def test_compare_matches_runs_by_point(swept, tmp_path):
    """Two sweeps: 8 and 32, then 8 and 128 with another learning rate: the shared point is
    matched and its learning rate flagged; each other point is in one folder only."""
    work = copy_workflow(tmp_path)
    second = ["sweeps={mlp: {batch_size: [8, 128]}}", "hyperparameters={mlp: {lr: 0.05}}"]
    result = run_snakemake(work, "--config", *ONE_VARIANT, *second)
    assert result.returncode == 0, result.stderr[-3000:]
    python = REPO / ".venv" / "bin" / "python"
    python = str(python) if python.exists() else "python"
    before, after = swept / "results", work / "results"
    shown = subprocess.run(
        [python, "-m", "mnistbench", "compare", str(before), str(after)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    prefix = f"{SAMPLE_DATASET}/mlp/numpy"
    rows = {line.split()[0]: line for line in shown.splitlines() if line.startswith(prefix)}
    assert set(rows) == {f"{prefix}/batch_size={b}/0" for b in (8, 32, 128)}
    assert "lr 0.1 → 0.05" in rows[f"{prefix}/batch_size=8/0"]
    assert "only before" in rows[f"{prefix}/batch_size=32/0"]
    assert "only after" in rows[f"{prefix}/batch_size=128/0"]
