"""The real Snakemake against hostile config and plugins, diverging training and changed data.

A copy of the workflow per case, the quick config on the MNIST sample, one variant and backend
where one is enough: a dataset file name that would climb out of ``resources/`` is refused before
anything runs; a plugin whose backend name cannot name a folder is reported and the others run; a
diverged run finishes the DAG and shows as ``diverged``; a data file changed after its fetch
stops the runs that would read it, with the file named in the job's log.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from tests.cli import tree
from tests.conftest import SAMPLE_DATASET, SAMPLE_FILES
from tests.distributions import install_distribution
from tests.plugin.test_plugins import numpy_plugin_source
from tests.workflow.runner import copy_workflow, planned_jobs, run_snakemake, run_with_override

pytestmark = pytest.mark.slow
ONE_RUN = ["--config", "backends=[numpy]", "variants=[mlp]"]
ESCAPING = numpy_plugin_source("Escaping", "../../escape", 2)


def output_of(result) -> str:
    return result.stdout + result.stderr


@pytest.mark.parametrize("name", ["../../outside.gz", "/tmp/outside.gz"])
def test_a_dataset_file_name_that_is_not_one_path_component_stops_the_dag_before_any_job(
    tmp_path, name
):
    work = copy_workflow(tmp_path)
    before = tree(work)
    override = {"dataset_definitions": {SAMPLE_DATASET: {"files": {"test_labels": {"name": name}}}}}
    result = run_with_override(work, override, *ONE_RUN)
    assert result.returncode != 0
    lines = [line for line in output_of(result).splitlines() if line.startswith("mnistbench: ")]
    assert lines == [
        f"mnistbench: config: dataset_definitions.{SAMPLE_DATASET}.files.test_labels.name: "
        f"got {name!r}, which is not a file name (one path component, no '/', not '.' or '..')"
    ]
    after = tree(work)
    assert {path for path in after if not path.startswith(".snakemake")} - set(before) == {
        "extra.yaml"
    }


def test_a_backend_name_that_cannot_name_a_folder_is_reported_and_the_others_run(tmp_path):
    (tmp_path / "work").mkdir()
    work = copy_workflow(tmp_path / "work")
    site = tmp_path / "site"
    install_distribution(site, "mnistbench_escaping", "escaping = escaping", {"escaping": ESCAPING})
    result = run_snakemake(
        work, "--dry-run", "--config", "backends=all", "variants=[mlp]",
        env={"PYTHONPATH": str(site)},
    )  # fmt: skip
    assert result.returncode == 0, output_of(result)[-3000:]
    assert (
        "mnistbench: backend plugin 'escaping' failed to load: backend name '../../escape' "
        "cannot name a results folder (allowed: letters, digits, '_', '.', '-'; a letter or "
        "digit first)"
    ) in output_of(result).splitlines()
    trained = {job[2] for job in planned_jobs(result) if job[0] == "train_model"}
    assert {"numpy", "torch"} <= trained and not any("escape" in b for b in trained)


@pytest.fixture(scope="module")
def diverged(tmp_path_factory):
    """One mlp run whose learning rate makes its loss overflow; the DAG run to its end."""
    work = copy_workflow(tmp_path_factory.mktemp("diverged"))
    result = run_snakemake(work, *ONE_RUN, "hyperparameters={mlp: {lr: 1e8}}")
    return work, result


def test_a_diverged_run_finishes_the_dag(diverged):
    _, result = diverged
    assert result.returncode == 0, output_of(result)[-3000:]


def test_the_summary_says_diverged_and_holds_no_accuracy(diverged):
    work, _ = diverged
    summary = pd.read_csv(work / "results" / "summary.csv")
    assert summary["status"].tolist() == ["diverged"]
    assert summary["reason"][0].startswith("loss not finite at epoch 1, step ")
    assert summary["test_accuracy"].isna().all()


def test_every_output_of_the_diverged_run_marks_it_so(diverged):
    """Nothing it leaves looks finished: train.json and metrics.json say diverged, its last
    epoch has no test accuracy and it predicted no image."""
    work, _ = diverged
    run = work / "results" / SAMPLE_DATASET / "mlp" / "numpy" / "default" / "seed0"
    train, metrics = (
        json.loads((run / name).read_text()) for name in ("train.json", "metrics.json")
    )
    assert train["status"] == metrics["status"] == "diverged"
    assert metrics["test_accuracy"] is None
    assert pd.isna(pd.read_csv(run / "history.csv")["test_accuracy"].iloc[-1])
    assert pd.read_csv(run / "predictions.csv").empty


def test_the_report_lists_the_run_as_diverged(diverged):
    work, _ = diverged
    html = (work / "results" / "report.html").read_text()
    assert "<td>diverged</td>" in html and "0 runs with a result" in html


def test_a_data_file_changed_after_its_fetch_stops_the_run_naming_the_file(diverged):
    work, _ = diverged
    path = work / "resources" / SAMPLE_DATASET / "test_labels.idx"
    data = bytearray(path.read_bytes())
    data[8] = (data[8] + 1) % 10  # one label changed; still a valid file
    path.write_bytes(data)
    result = run_snakemake(work, *ONE_RUN)  # the learning rate back: the run trains again
    assert result.returncode != 0
    line = (
        f"mnistbench train: error: resources/{SAMPLE_DATASET}/test_labels.idx: SHA-256 "
        f"{hashlib.sha256(data).hexdigest()} differs from the pinned "
        f"{SAMPLE_FILES['test_labels']['sha256']}: the file changed after it was fetched; "
        "delete it and run again to fetch it afresh"
    )
    assert line in output_of(result).splitlines()
    log = work / "logs" / "train" / SAMPLE_DATASET / "mlp" / "numpy" / "default" / "seed0.log"
    assert log.read_text().splitlines()[-1] == line
