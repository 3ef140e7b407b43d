"""docs/write-a-variant.md works as written: its code blocks make a variant plugin that installs
and runs through the real DAG on PyTorch (autograd) and JAX; its field table lists every field.

The plugin is built from the page's ``# file:`` blocks in a temporary folder and installed there
(``pip install --no-deps --no-build-isolation --target``), reaching Snakemake's jobs through
``PYTHONPATH``, so the test leaves the environment as it found it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pytest

from mnistbench.plugin import Contract, Cost, Reference, Variant
from tests.conftest import REPO, SAMPLE_DATASET
from tests.workflow.runner import copy_workflow, run_snakemake

PAGE = REPO / "docs" / "write-a-variant.md"
BLOCK = re.compile(r"```(?:python|toml)\n# file: (?P<path>\S+)\n(?P<body>.*?)```", re.S)


def test_the_field_table_names_every_field_of_the_declaration():
    page = PAGE.read_text()
    for kind in (Variant, Contract, Reference, Cost):
        for field in dataclasses.fields(kind):
            assert re.search(rf"`{kind.__name__}\.[^`]*\b{field.name}\b", page) or re.search(
                rf"\.{field.name}`", page
            ), f"{kind.__name__}.{field.name} is missing from the table"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The page's plugin written out and installed into a folder of its own: (work, env)."""
    work = copy_workflow(tmp_path_factory.mktemp("docs_variant"))
    for block in BLOCK.finditer(PAGE.read_text()):
        path = work / "plugin" / block["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block["body"])
    site = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(work / "plugin" / "mnistbench-deep-mlp")],
        check=True, capture_output=True,
    )  # fmt: skip
    return work, {"PYTHONPATH": str(site)}


@pytest.mark.slow
def test_the_docs_variant_runs_through_the_dag_on_pytorch_autograd_and_jax(installed):
    work, env = installed
    result = run_snakemake(
        work,
        "--config",
        "backends=[numpy,torch,jax]",
        "variants=deep_mlp",
        "hyperparameters={deep_mlp: {epochs: 1}}",
        "implementations={torch: [tuned, autograd]}",  # both ways: the model ships only autograd
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "backend 'numpy' does not implement variant 'deep_mlp'" in result.stderr
    assert "backend 'torch' has no 'tuned' implementation of variant 'deep_mlp'" in result.stderr
    runs = work / "results" / SAMPLE_DATASET / "deep_mlp"
    trained = {
        (p.parent.parent.name, p.parent.name): json.loads((p / "train.json").read_text())
        for p in runs.glob("*/*/seed0")
    }
    assert set(trained) == {("torch", "implementation=autograd"), ("jax", "default")}
    for info in trained.values():
        assert info["implementation"] == "autograd"
        assert info["status"] == "ok" and info["final_train_loss"] < 2.3  # below chance: learns
