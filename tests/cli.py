"""Running ``python -m mnistbench`` as Snakemake does, and reading its one error line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest


def run_cli(
    *args: str, env: dict[str, str] | None = None, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess:
    """The command in a subprocess, ``MNISTBENCH_MIRROR`` unset so only named mirrors count;
    ``prefix`` goes before the interpreter (e.g. :func:`unprivileged`)."""
    environ = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    environ.update(env or {})
    return subprocess.run(
        [*prefix, sys.executable, "-m", "mnistbench", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )


def error_line(result: subprocess.CompletedProcess, step: str) -> str:
    """The one error line, checked to be the last line of stderr and the only one, of a
    command that exited non-zero."""
    assert result.returncode != 0, f"exit status 0 with stderr: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    prefix = f"mnistbench {step}: error: "
    assert [line for line in lines if line.startswith(prefix)] == lines[-1:], result.stderr
    return lines[-1]


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under ``root``, hidden ones included.

    Comparing the tree before and after a command shows what it wrote, and where.
    """
    return {
        path.relative_to(root).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def unprivileged() -> list[str]:
    """A command prefix that runs as an ordinary user, for tests of file permissions.

    root writes into read-only folders regardless, so as root the command runs as ``nobody``.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop to a user that permissions bind")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
