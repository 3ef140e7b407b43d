"""Running the real Snakemake on a private copy of the workflow, for the workflow tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def copy_workflow(work: Path) -> Path:
    """Copy the Snakefile, config/ and workflow/ into ``work``, so runs never touch the repo."""
    shutil.copy(REPO / "Snakefile", work)
    for folder in ("config", "workflow"):
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return work


def run_snakemake(
    work: Path, *args: str, mirror: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Snakemake on the quick config in ``work``; a hang fails the test, not the suite.

    ``mirror`` becomes MNISTBENCH_MIRROR; without it the variable is unset, so only the
    configured mirrors count.
    """
    env = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    if mirror is not None:
        env["MNISTBENCH_MIRROR"] = str(mirror)
    return subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--configfile", "config/quick.yaml", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
