"""mnistbench as a module of another workflow, deployed as ``snakedeploy deploy-workflow`` does it
(docs/deploy.md): a folder of its own with ``config/config.yaml`` and a ``workflow/Snakefile``
that declares the workflow a module and uses all its rules. The module is a copy of this
repository's workflow, as a deployment's cached copy is; the jobs use the installed package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import SAMPLE_DATASET, SAMPLE_DEFINITION, SAMPLE_DIR
from tests.workflow.runner import REPO, SNAKEMAKE

pytestmark = pytest.mark.slow

# snakedeploy's template, with the module's Snakefile given as a path rather than github(...).
MODULE = """from snakemake.utils import min_version


min_version("6.10.0")


configfile: "config/config.yaml"


# declare mnistbench as a module
module mnistbench:
    snakefile:
        "{snakefile}"
    config:
        config


# use all rules from mnistbench
use rule * from mnistbench
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Path:
    """A deployment of one run (numpy, mlp, one epoch, the MNIST sample), run to its report."""
    source = tmp_path_factory.mktemp("mnistbench")
    shutil.copy(REPO / "Snakefile", source)
    for folder in ("config", "workflow"):
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    here = tmp_path_factory.mktemp("my-benchmark")
    (here / "workflow").mkdir()
    (here / "workflow" / "Snakefile").write_text(MODULE.format(snakefile=source / "Snakefile"))
    config = yaml.safe_load((source / "config" / "config.yaml").read_text())
    config.update(
        datasets=[SAMPLE_DATASET],
        backends=["numpy"],
        variants=["mlp"],
        seeds=[0],
        hyperparameters={"mlp": {"epochs": 1}},
    )
    config["dataset_definitions"][SAMPLE_DATASET] = {
        **SAMPLE_DEFINITION,
        "mirrors": [str(SAMPLE_DIR)],
    }
    (here / "config").mkdir()
    (here / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    environ = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    done = subprocess.run(
        [str(SNAKEMAKE), "--cores", "2"],
        cwd=here,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return here


def test_the_deployment_runs_its_own_config_to_a_report_in_its_own_folder(deployment):
    run = deployment / "results" / SAMPLE_DATASET / "mlp" / "numpy" / "default" / "seed0"
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["dataset"], metrics["epochs"], metrics["backend"]) == (
        SAMPLE_DATASET,
        1,
        "numpy",
    )
    assert (deployment / "results" / "report.html").stat().st_size > 0
    assert sorted(p.name for p in (deployment / "results" / SAMPLE_DATASET).iterdir()) == ["mlp"]
