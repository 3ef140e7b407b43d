"""Re-running as Snakemake users do: change one thing, and exactly the jobs it touches run again.

One finished run of the quick DAG on the MNIST sample (NumPy and a third-party plugin, two
variants), then a dry run per change, comparing the jobs Snakemake plans with the jobs the change
can affect. The workflow's own copy of the core package and the plugin's folder come first on
``PYTHONPATH``, so a test can edit their code the way a developer would.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, SAMPLE_DATASET
from tests.plan.test_config import documented_overrides
from tests.workflow.runner import copy_workflow, planned_jobs, run_snakemake

pytestmark = pytest.mark.slow
RUNS = ["backends=[numpy,faulty]", "variants=[mlp,sigmoid_mlp]"]
# faulty implements mlp and dropout_mlp only: three runs.
ALL_RUNS = {("mlp", "numpy", "0"), ("mlp", "faulty", "0"), ("sigmoid_mlp", "numpy", "0")}
DOWNSTREAM = {("aggregate_results",), ("write_report",), ("all",)}


def run_jobs(*runs: tuple[str, str, str]) -> set[tuple[str, ...]]:
    """The train and evaluate jobs of ``runs``, and the aggregate and report jobs after them."""
    jobs = {(rule, *run) for run in runs for rule in ("train_model", "evaluate_model")}
    return jobs | DOWNSTREAM


def with_plugin(work: Path) -> dict[str, str]:
    """The environment that installs the test plugin and the workflow's copy of mnistbench."""
    shutil.copytree(REPO / "tests" / "plugins" / "site", work / "site")
    return {"PYTHONPATH": f"{work / 'workflow'}:{work / 'site'}"}


@contextmanager
def edited(path: Path, addition: str = "\n# edited\n"):
    """``path`` with ``addition`` appended, restored afterwards."""
    original = path.read_bytes()
    path.write_bytes(original + addition.encode())
    try:
        yield
    finally:
        path.write_bytes(original)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A copy of the workflow after one successful run; returns (work, env)."""
    work = copy_workflow(tmp_path_factory.mktemp("reruns"))
    env = with_plugin(work)
    result = run_snakemake(work, "--config", *RUNS, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return work, env


def plan(finished, *entries: str):
    """The dry run after ``entries`` are added to the finished run's ``--config``."""
    work, env = finished
    return run_snakemake(work, "--dry-run", "--config", *RUNS, *entries, env=env)


def test_nothing_to_do_right_after_a_finished_run(finished):
    result = plan(finished)
    assert planned_jobs(result) == set()
    assert "Nothing to be done" in result.stdout + result.stderr


def test_the_pair_a_backend_does_not_implement_is_listed_as_not_run_with_why(finished):
    work, _ = finished
    reason = "backend 'faulty' does not implement variant 'sigmoid_mlp'"
    listed = pd.read_csv(work / "results" / "planned_out.csv", keep_default_na=False)
    assert listed.to_dict("records") == [
        {
            "dataset": SAMPLE_DATASET,
            "variant": "sigmoid_mlp",
            "backend": "faulty",
            "point": "",
            "reason": reason,
        }  # fmt: skip
    ]
    [not_run] = pd.read_html(work / "results" / "report.html", match=reason)
    assert not_run[["variant", "backend", "reason"]].values.tolist() == [
        ["sigmoid_mlp", "faulty", reason]
    ]


def test_one_variants_hyperparameter_reruns_only_that_variants_runs(finished):
    result = plan(finished, "hyperparameters={sigmoid_mlp: {lr: 0.002}}")
    assert planned_jobs(result) == run_jobs(("sigmoid_mlp", "numpy", "0"))
    assert "Params have changed since last execution" in result.stdout


def test_changing_the_thread_count_reruns_every_run_it_fixes(finished):
    result = plan(finished, "threads=2")
    assert planned_jobs(result) == run_jobs(*ALL_RUNS)
    assert "Params have changed since last execution" in result.stdout


@pytest.mark.parametrize(
    ("entry", "key", "count"),
    [("threads=1000", "threads", 1000), ("threads=[1,4]", "threads[1]", 4)],
)
def test_more_threads_than_the_cores_stops_snakemake_naming_both_numbers(
    finished, entry, key, count
):
    result = plan(finished, entry)  # the runner gives Snakemake --cores 2
    assert result.returncode != 0
    output = (result.stdout + result.stderr).splitlines()
    lines = [line for line in output if line.startswith("mnistbench: ")]
    assert lines == [
        f"mnistbench: config: {key}: {count} threads is more than the 2 a job can have here"
        " (--cores 2); ask for at most 2, or give Snakemake more cores"
    ]


def test_a_new_seed_runs_only_the_new_runs(finished):
    result = plan(finished, "seeds=[0,1]")
    assert planned_jobs(result) == run_jobs(*((v, b, "1") for v, b, _ in ALL_RUNS))


def test_a_new_backend_runs_only_its_runs(finished):
    work, env = finished
    result = run_snakemake(
        work, "--dry-run", "--config", "backends=[numpy,faulty,torch]", RUNS[1], env=env
    )
    assert planned_jobs(result) == run_jobs(("mlp", "torch", "0"), ("sigmoid_mlp", "torch", "0"))


def test_editing_a_plugins_code_reruns_only_that_backends_runs(finished):
    work, _ = finished
    with edited(work / "site" / "mnistbench_faulty.py"):
        result = plan(finished)
    assert planned_jobs(result) == run_jobs(("mlp", "faulty", "0"))
    assert "Params have changed since last execution" in result.stdout


def test_a_new_version_of_a_plugins_distribution_reruns_only_that_backends_runs(finished):
    work, _ = finished
    metadata = work / "site" / "mnistbench_faulty-1.0.dist-info" / "METADATA"
    original = metadata.read_text()
    metadata.write_text(original.replace("Version: 1.0", "Version: 1.1"))
    try:
        result = plan(finished)
    finally:
        metadata.write_text(original)
    assert planned_jobs(result) == run_jobs(("mlp", "faulty", "0"))


def test_editing_the_cores_training_code_reruns_every_run(finished):
    work, _ = finished
    with edited(work / "workflow" / "mnistbench" / "training" / "train.py"):
        result = plan(finished)
    assert planned_jobs(result) == run_jobs(*ALL_RUNS)


def test_editing_the_evaluation_code_reruns_every_evaluation_only(finished):
    work, _ = finished
    with edited(work / "workflow" / "mnistbench" / "evaluation" / "evaluate.py"):
        result = plan(finished)
    assert planned_jobs(result) == {("evaluate_model", *run) for run in ALL_RUNS} | DOWNSTREAM


def test_the_report_lists_the_command_line_overrides_as_typed(finished):
    work, _ = finished
    html = (work / "results" / "report.html").read_text()
    assert " ".join(f"<code>{entry}</code>" for entry in RUNS) in html


def test_changing_a_time_to_accuracy_target_reruns_only_the_report(finished):
    result = plan(finished, "report={time_to_accuracy: {mlp: 0.5}}")
    assert planned_jobs(result) == {("write_report",), ("all",)}


def test_editing_the_report_template_reruns_only_the_report(finished):
    work, _ = finished
    with edited(work / "workflow" / "mnistbench" / "report" / "templates" / "report.html.j2", "\n"):
        result = plan(finished)
    assert planned_jobs(result) == {("write_report",), ("all",)}


def test_editing_a_core_helper_only_one_backend_imports_reruns_only_its_runs(finished):
    work, _ = finished
    with edited(work / "workflow" / "mnistbench" / "plugin" / "denormals.py"):
        result = plan(finished)
    numpy_runs = [run for run in ALL_RUNS if run[1] == "numpy"]
    assert planned_jobs(result) == run_jobs(*numpy_runs)


def test_editing_code_no_step_uses_reruns_nothing(finished):
    work, _ = finished
    with edited(work / "workflow" / "mnistbench" / "cli.py"):
        assert planned_jobs(plan(finished)) == set()


@pytest.mark.parametrize("entries", documented_overrides(), ids=" ".join)
def test_a_documented_override_plans_with_the_real_snakemake(finished, entries):
    work, env = finished
    result = run_snakemake(work, "--dry-run", "--config", *entries, env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_wrong_override_stops_snakemake_with_one_line_naming_the_key(finished):
    work, env = finished
    result = run_snakemake(work, "--dry-run", "--config", "seeds=[one]", env=env)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).splitlines()
    lines = [line for line in output if line.startswith("mnistbench: ")]
    assert lines == [
        "mnistbench: config: seeds[0]: got 'one', which is not an integer; expected a list of "
        "integers >= 0, one run per seed, or a rule adding seeds until each comparison is decided"
        " (docs/seed-plans.md), e.g. seeds=[0, 1, 2]"
    ]


# A failed run costs nothing else -------------------------------------------------------------


@pytest.fixture(scope="module")
def failed(tmp_path_factory):
    """faulty raises in its set-up for dropout_mlp; the other three runs must finish anyway."""
    work = copy_workflow(tmp_path_factory.mktemp("failed"))
    env = with_plugin(work)
    entries = ["backends=[numpy,faulty]", "variants=[mlp,dropout_mlp]"]
    result = run_snakemake(work, "--keep-going", "--config", *entries, env=env)
    return work, env, entries, result


def test_a_failing_run_fails_the_workflow(failed):
    _, _, _, result = failed
    assert result.returncode != 0
    assert "Error in rule train_model" in result.stdout + result.stderr


def test_every_other_run_finishes(failed):
    work, _, _, _ = failed
    runs = work / "results" / SAMPLE_DATASET
    finished = sorted(p.relative_to(runs).parent.as_posix() for p in runs.rglob("metrics.json"))
    assert finished == [
        "dropout_mlp/numpy/default/seed0",
        "mlp/faulty/default/seed0",
        "mlp/numpy/default/seed0",
    ]


def test_the_partial_summary_lists_the_failed_run_with_the_reason_from_its_log(failed):
    work, _, _, _ = failed
    summary = pd.read_csv(work / "results" / "partial" / "summary.csv").set_index(
        ["variant", "backend"]
    )
    assert summary["status"].to_dict() == {
        ("dropout_mlp", "faulty"): "failed",
        ("dropout_mlp", "numpy"): "ok",
        ("mlp", "faulty"): "ok",
        ("mlp", "numpy"): "ok",
    }
    reason = summary.loc[("dropout_mlp", "faulty"), "reason"]
    assert reason.startswith("train: ") and "dropout masks of the wrong shape" in reason
    assert summary.loc[("mlp", "faulty"), "test_accuracy"] > 0.8


def test_the_partial_report_names_the_failed_run_and_why(failed):
    work, _, _, _ = failed
    html = (work / "results" / "partial" / "report.html").read_text()
    assert "Runs without a result" in html and "dropout masks of the wrong shape" in html


def test_the_rules_own_outputs_stay_missing_so_the_next_run_retries(failed):
    work, env, entries, _ = failed
    assert not (work / "results" / "summary.csv").exists()
    assert not (work / "results" / "report.html").exists()
    result = run_snakemake(work, "--dry-run", "--config", *entries, env=env)
    assert planned_jobs(result) == run_jobs(("dropout_mlp", "faulty", "0"))
