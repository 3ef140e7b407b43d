"""Fashion-MNIST end to end, with Debian's dataset-fashion-mnist package as its mirror.

The dataset is one entry of config/config.yaml whose first mirror is the directory the package
installs; nothing else about it is special. ``MNISTBENCH_MIRROR`` is unset so that mirror is the
one that serves it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import skip_or_fail
from tests.workflow.runner import copy_workflow, run_snakemake

DEBIAN_MIRROR = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    if not (DEBIAN_MIRROR / "train-images-idx3-ubyte.gz").is_file():
        skip_or_fail(f"no Fashion-MNIST at {DEBIAN_MIRROR} (apt-get install dataset-fashion-mnist)")
    work = copy_workflow(tmp_path_factory.mktemp("fashion"))
    # threads=1: batches of 8 are too small for BLAS threads, which on a busy machine make the
    # one training epoch some 50x slower; this test is about the data, not the threading.
    overrides = [
        "datasets=[fashion-mnist]",
        "subset={train: 4000, test: 1000}",
        "backends=[numpy]",
        "variants=[mlp]",
        "threads=1",
    ]
    result = run_snakemake(work, "--config", *overrides)
    return work, result


def test_fashion_mnist_workflow_succeeds(fashion_run):
    _, result = fashion_run
    assert result.returncode == 0, result.stderr[-3000:]


def test_fashion_mnist_files_come_from_the_debian_package(fashion_run):
    work, _ = fashion_run
    log = (work / "logs" / "fetch" / "fashion-mnist" / "train_images.log").read_text()
    assert f"train-images-idx3-ubyte.gz: verified from {DEBIAN_MIRROR}/" in log


def test_fashion_mnist_summary_has_one_accurate_run(fashion_run):
    work, _ = fashion_run
    summary = pd.read_csv(work / "results" / "summary.csv")
    assert summary[["dataset", "variant", "backend", "seed"]].values.tolist() == [
        ["fashion-mnist", "mlp", "numpy", 0]
    ]
    assert summary["test_accuracy"].iloc[0] > 0.5
