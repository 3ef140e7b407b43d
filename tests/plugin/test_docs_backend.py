"""The whole backend docs/plugins.md shows is a working one: its files, taken from the page's code
blocks into a folder, install with pip, pass the conformance suite run by pytest as its author
would run it, and are listed by ``mnistbench backends``; so the page cannot drift from the code.

The package is installed with a real ``pip install`` into a folder of its own, which only the
subprocesses see (``PYTHONPATH``), so no other test meets the extra backend.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGE = REPO / "docs" / "plugins.md"
# A code block that is a file of the example starts with a comment naming only its path.
FILE_BLOCK = re.compile(r"```(?:python|toml)\n# ([\w/.]+\.(?:py|toml))\n(.*?)```", re.DOTALL)
FILES = {"pyproject.toml", "mnistbench_mybackend/__init__.py", "tests/test_conformance.py"}


def example_files() -> dict[str, str]:
    """Path -> text of every file of the page's example backend."""
    return {path: f"# {path}\n{body}" for path, body in FILE_BLOCK.findall(PAGE.read_text())}


def install(files: dict[str, str], root: Path) -> tuple[Path, dict[str, str]]:
    """``files`` written to a folder under ``root`` and pip-installed into ``root / "site"``:
    the folder, and an environment in which Python sees the installed package."""
    folder = root / "mnistbench-mybackend"
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    site = root / "site"
    offline = ("--no-deps", "--no-build-isolation", "--no-index", "--quiet")
    pip = [sys.executable, "-m", "pip", "install", *offline, "--target", str(site), str(folder)]
    result = subprocess.run(pip, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return folder, {**os.environ, "PYTHONPATH": path}


def run_suite(folder: Path, environ: dict[str, str]) -> subprocess.CompletedProcess:
    """The package's tests run by pytest in its folder, as its author runs them."""
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/"]
    return subprocess.run(command, cwd=folder, env=environ, capture_output=True, text=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The example's folder, and the environment in which it is pip-installed."""
    return install(example_files(), tmp_path_factory.mktemp("docs-backend"))


def test_the_page_shows_the_three_files_of_its_backend():
    assert set(example_files()) == FILES


@pytest.mark.slow  # pip builds the package; the suite trains
def test_the_docs_backend_passes_the_conformance_suite(installed):
    result = run_suite(*installed)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.match(r"\d+ passed in ", summary), summary  # nothing skipped, nothing failed


@pytest.mark.slow
def test_the_docs_backend_is_listed_with_its_variant(installed):
    _, environ = installed
    command = [sys.executable, "-m", "mnistbench", "backends"]
    result = subprocess.run(command, env=environ, capture_output=True, text=True, check=True)
    [line] = [line for line in result.stdout.splitlines() if line.startswith("mybackend ")]
    assert line.endswith("(devices: cpu; variants: mlp; implementations: tuned)")
