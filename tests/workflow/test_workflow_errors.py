"""The real Snakemake on bad data: the failing rule is named, with the step's one-line error.

Two runs of the quick config in a copy of the workflow, ``MNISTBENCH_MIRROR`` unset so only the
mirrors in the config count: the MNIST sample with a wrong pinned digest (the fetch rule fails), and
a small dataset defined only in the override file whose test labels go past its class count
(the fetch rule passes it, since each file is sound on its own; the train rule refuses it).
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess

import pytest

from tests.conftest import SAMPLE_DATASET, SAMPLE_FILES
from tests.data.test_idx_errors import GOOD, labels
from tests.workflow.runner import copy_workflow, run_with_override

WRONG_SHA256 = SAMPLE_FILES["test_labels"]["sha256"]  # a real digest, of another file
ONE_RUN = ["--config", "backends=[numpy]", "variants=[mlp]"]
pytestmark = pytest.mark.slow


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def error_lines(result: subprocess.CompletedProcess, step: str) -> list[str]:
    prefix = f"mnistbench {step}: error: "
    return [line for line in output_of(result).splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def wrong_digest_run(tmp_path_factory):
    """The MNIST sample with a wrong pinned train_labels digest."""
    work = copy_workflow(tmp_path_factory.mktemp("wrong_digest"))
    override = {
        "dataset_definitions": {
            SAMPLE_DATASET: {"files": {"train_labels": {"sha256": WRONG_SHA256}}},
        }
    }
    return work, run_with_override(work, override, *ONE_RUN)


def test_wrong_digest_shows_the_fetch_steps_one_line_error(wrong_digest_run):
    _, result = wrong_digest_run
    name = SAMPLE_FILES["train_labels"]["name"]
    [line] = error_lines(result, "fetch")
    assert line.startswith(f"mnistbench fetch: error: {name}: every mirror failed: ")
    assert f"SHA-256 mismatch: expected {WRONG_SHA256}, got " in line


def test_wrong_digest_leaves_no_file_in_resources(wrong_digest_run):
    work, _ = wrong_digest_run
    resources = work / "resources" / SAMPLE_DATASET
    assert not (resources / "train_labels.idx").exists()
    assert not [p for p in resources.iterdir() if p.name.startswith(".")]


def test_wrong_digest_error_is_in_the_jobs_log(wrong_digest_run):
    work, result = wrong_digest_run
    log = (work / "logs" / "fetch" / SAMPLE_DATASET / "train_labels.log").read_text()
    assert error_lines(result, "fetch")[0] in log.splitlines()


@pytest.fixture(scope="module")
def bad_labels_run(tmp_path_factory):
    """A 10-class dataset, defined only in the override file, with test label 10 at index 3."""
    work = copy_workflow(tmp_path_factory.mktemp("bad_labels"))
    mirror = work / "mirror"
    mirror.mkdir()
    data = {**GOOD, "test_labels": labels([0, 1, 2, 10, 4, 5, 6, 7, 8, 9])}
    files = {}
    for role, content in data.items():
        name = f"{role}-ubyte.gz"
        (mirror / name).write_bytes(gzip.compress(content, mtime=0))
        files[role] = {"name": name, "sha256": hashlib.sha256(content).hexdigest()}
    override = {
        "datasets": ["tiny"],
        "dataset_definitions": {"tiny": {"classes": 10, "mirrors": [str(mirror)], "files": files}},
    }
    return work, run_with_override(work, override, *ONE_RUN)


# Each bad run, and the rule that refuses it.
FAILING_RULE = {"wrong_digest_run": "fetch_dataset_file", "bad_labels_run": "train_model"}


@pytest.mark.parametrize("run", FAILING_RULE)
def test_bad_data_fails_the_workflow(run, request):
    _, result = request.getfixturevalue(run)
    assert result.returncode != 0


@pytest.mark.parametrize("run, rule", FAILING_RULE.items())
def test_bad_data_names_the_rule_that_refused_it(run, rule, request):
    _, result = request.getfixturevalue(run)
    assert f"Error in rule {rule}" in output_of(result)


def test_label_out_of_range_shows_the_train_steps_one_line_error(bad_labels_run):
    _, result = bad_labels_run
    assert error_lines(result, "train") == [
        "mnistbench train: error: resources/tiny/test_labels.idx: "
        "label 10 at index 3 is outside 0..9 (10 classes)"
    ]


def test_label_out_of_range_leaves_no_run_outputs(bad_labels_run):
    work, _ = bad_labels_run
    assert not (
        work / "results" / "tiny" / "mlp" / "numpy" / "default" / "seed0" / "weights.npz"
    ).exists()
    assert not (work / "results" / "summary.csv").exists()


@pytest.mark.parametrize("run", FAILING_RULE)
def test_a_failed_runs_follow_up_steps_add_no_error_of_their_own(run, request):
    """No run finished, so there is no partial report to write, and nothing to say about it."""
    _, result = request.getfixturevalue(run)
    output = output_of(result)
    assert "mnistbench aggregate: error" not in output and "nothing to aggregate" not in output
    steps = {line.split(":")[0] for line in output.splitlines() if ": error: " in line}
    assert steps == {f"mnistbench {FAILING_RULE[run].split('_')[0]}"}


def test_a_refused_config_prints_its_one_line_and_nothing_of_snakemakes(tmp_path):
    work = copy_workflow(tmp_path)
    result = run_with_override(work, {"hyperparameters": {"mlp": {"lr": float("inf")}}}, *ONE_RUN)
    assert result.returncode != 0
    output = output_of(result)
    assert "mnistbench: config: hyperparameters.mlp.lr: inf is not a finite number" in output
    assert "WorkflowError" not in output and 'File "' not in output and "Traceback" not in output
    assert [line for line in output.splitlines() if "mnistbench" in line] == [
        "mnistbench: config: hyperparameters.mlp.lr: inf is not a finite number"
    ]
