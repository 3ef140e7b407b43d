"""Fashion-MNIST end to end, with Debian's dataset-fashion-mnist package as its mirror.

The dataset is one entry of config/config.yaml whose first mirror is the directory the package
installs; nothing else about it is special. ``MNISTBENCH_MIRROR`` is unset so that mirror is the
one that serves it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
DEBIAN_MIRROR = Path("/usr/share/datasets/fashion-mnist")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (DEBIAN_MIRROR / "train-images-idx3-ubyte.gz").is_file(),
        reason=f"no Fashion-MNIST at {DEBIAN_MIRROR} (apt-get install dataset-fashion-mnist)",
    ),
]


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("fashion")
    shutil.copy(REPO / "Snakefile", work)
    for folder in ("config", "workflow"):
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    # threads=1: batches of 8 are too small for BLAS threads, which on a busy machine make the
    # one training epoch some 50x slower; this test is about the data, not the threading.
    result = subprocess.run(
        [
            str(SNAKEMAKE),
            "--cores",
            "2",
            "--configfile",
            "config/quick.yaml",
            "--config",
            "datasets=[fashion-mnist]",
            "backends=[numpy]",
            "variants=[mlp]",
            "threads=1",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
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
