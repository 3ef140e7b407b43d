"""Running the real Snakemake on a private copy of the workflow, for the workflow tests.

Every run uses ``config/quick.yaml`` with the MNIST sample of ``tests/data`` as its dataset
(``sample.yaml``, written beside the copy), so the workflow tests need no network and no mirror.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from tests.conftest import SAMPLE_DATASET, SAMPLE_DEFINITION, SAMPLE_DIR

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SAMPLE_CONFIG = "sample.yaml"


def copy_workflow(work: Path) -> Path:
    """Copy the Snakefile, config/ and workflow/ into ``work``, so runs never touch the repo."""
    shutil.copy(REPO / "Snakefile", work)
    for folder in ("config", "workflow"):
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    sample = {
        "datasets": [SAMPLE_DATASET],
        "subset": {"train": None, "test": None},
        "dataset_definitions": {
            SAMPLE_DATASET: {**SAMPLE_DEFINITION, "mirrors": [str(SAMPLE_DIR)]},
        },
    }
    (work / SAMPLE_CONFIG).write_text(yaml.safe_dump(sample))
    return work


def run_snakemake(
    work: Path,
    *args: str,
    configfiles: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    cores: str | None = "2",
) -> subprocess.CompletedProcess:
    """Snakemake on the quick config and the sample in ``work``, with ``configfiles`` on top.

    ``MNISTBENCH_MIRROR`` is unset, so only the configured mirrors count; ``env`` adds variables.
    ``cores`` is the ``--cores`` given (None: none, as a cluster run may). A hang fails the
    test, not the suite.
    """
    environ = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    environ.update(env or {})
    configs = ["config/quick.yaml", SAMPLE_CONFIG, *configfiles]
    given = ["--cores", cores] if cores else []
    return subprocess.run(
        [str(SNAKEMAKE), *given, "--configfile", *configs, *args],
        cwd=work,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_with_override(
    work: Path, override: Mapping, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess:
    """:func:`run_snakemake` with ``override`` written to ``extra.yaml`` on top of the configs."""
    (work / "extra.yaml").write_text(yaml.safe_dump(dict(override)))
    return run_snakemake(work, *args, configfiles=["extra.yaml"], timeout=timeout)


def planned_jobs(result: subprocess.CompletedProcess) -> set[tuple[str, ...]]:
    """The jobs a ``--dry-run`` planned: ``(rule, variant, backend, seed)`` for a run's jobs,
    ``(rule,)`` for the others (aggregate, report, all)."""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    jobs, rule = set(), None
    for line in (result.stdout + result.stderr).splitlines():
        line = line.strip()
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            if rule:
                jobs.add((rule,))
            rule = line.split()[1].rstrip(":")
        elif line.startswith("wildcards:") and rule:
            wildcards = dict(item.split("=", 1) for item in line[len("wildcards:") :].split(", "))
            if "variant" in wildcards:
                jobs.add((rule, wildcards["variant"], wildcards["backend"], wildcards["seed"]))
            else:
                jobs.add((rule, *wildcards.values()))
            rule = None
    if rule:
        jobs.add((rule,))
    return jobs
