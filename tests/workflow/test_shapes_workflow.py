"""A dataset unlike MNIST through the whole DAG by config alone: 26 classes of 32 x 32 images,
labelled 1..26 and stored column-major (EMNIST letters' conventions), served by a local mirror
whose digests are in the test's config, on every installed backend and every built-in variant
(``mnn``'s matrix included: 1024 + 1 + 100 + 26 neurons); a variant that cannot take the shape
(the LeNet-5 plugin, written for MNIST's) is planned out with one line naming it and why."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mnistbench.plugin.registry import load_backends
from tests.synthetic import LETTERS, make
from tests.workflow.runner import copy_workflow, run_with_override

pytestmark = pytest.mark.slow
VARIANTS = ["mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding"]
MNIST_ONLY = "lenet"  # the variant plugin of plugins/mnistbench-lenet, not sized by data


@pytest.fixture(scope="module")
def letters_run(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("letters"))
    definition = make(tmp_path_factory.mktemp("mirror"), *LETTERS, mirror=True)
    definition["image_size"] = [32, 32]  # so the plan knows the shape before the fetch
    override = {
        "datasets": ["letters"],
        "dataset_definitions": {"letters": definition},
        "variants": [*VARIANTS, MNIST_ONLY],
        "backends": "all",
        "threads": 1,
    }
    return work, run_with_override(work, override, timeout=1500)


def test_the_letters_run_through_the_whole_dag(letters_run):
    work, result = letters_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert (work / "results" / "report.html").is_file()


def test_a_variant_that_cannot_take_the_shape_is_planned_out_in_one_line(letters_run):
    _, result = letters_run
    [line] = [line for line in result.stderr.splitlines() if "skipped on dataset" in line]
    assert line == (
        "mnistbench: variant 'lenet' skipped on dataset 'letters' (26 classes of 32 x 32 images): "
        "it is sized for MNIST's 10 classes of 28 x 28 images, not from the data"
    )


def test_every_backend_ran_every_built_in_variant_and_learned(letters_run):
    work, _ = letters_run
    summary = pd.read_csv(work / "results" / "summary.csv")
    backends = sorted(load_backends().available())
    expected = [(v, b) for v in sorted(VARIANTS) for b in backends]
    assert sorted(set(zip(summary["variant"], summary["backend"]))) == expected
    # and PyTorch's autograd twin of its tuned runs (config.yaml's implementations; mnn aside)
    twins = summary[summary["implementation"] == "autograd"]
    assert ("mlp", "torch") in set(zip(twins["variant"], twins["backend"]))
    assert (summary["status"] == "ok").all()
    assert (summary["test_accuracy"] > 3 / 26).all(), summary[
        ["variant", "backend", "test_accuracy"]
    ]


def test_each_run_records_the_shape_and_how_the_files_were_read(letters_run):
    work, _ = letters_run
    info = json.loads((work / "results/letters/mlp/numpy/default/seed0/train.json").read_text())
    assert (info["n_classes"], info["image_size"]) == (26, [32, 32])
    assert (info["label_offset"], info["transpose"]) == (1, True)


def test_the_report_reads_the_26_classes(letters_run):
    work, _ = letters_run
    page = (work / "results" / "report.html").read_text()
    assert "letters (26 classes)" in page
    assert "source notebook's test accuracy" not in page  # the notebooks' figures are MNIST's
    assert "figures are for MNIST: none applies to these datasets" in page
