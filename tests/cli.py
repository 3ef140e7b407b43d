"""Running ``python -m mnistbench`` as Snakemake does, and reading its one error line."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command in a subprocess, ``MNISTBENCH_MIRROR`` unset so only named mirrors count."""
    environ = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mnistbench", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )


def error_line(result: subprocess.CompletedProcess, step: str) -> str:
    """The one error line, checked to be the last line of stderr and the only one."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    prefix = f"mnistbench {step}: error: "
    assert [line for line in lines if line.startswith(prefix)] == lines[-1:], result.stderr
    return lines[-1]
