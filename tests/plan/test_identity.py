"""Step fingerprints come from the code each step imports, not from a list kept by hand."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnistbench.plan import identity
from tests.conftest import REPO

CORE_FILES = sorted((REPO / "workflow" / "mnistbench").rglob("*.py"))

# Every step's fingerprint before and after each core file is edited, in a copy of the package.
PROBE = """
import json, sys
from pathlib import Path
from mnistbench.plan import identity

def fingerprints():
    identity.closure.cache_clear()
    return {step: identity.step(step) for step in identity.STEP_MODULES}

before, changed = fingerprints(), {}
for path in sorted(identity.PACKAGE.rglob("*.py")):
    original = path.read_bytes()
    path.write_bytes(original + b"\\n# edited\\n")
    after = fingerprints()
    path.write_bytes(original)
    key = path.relative_to(identity.PACKAGE).as_posix()
    changed[key] = sorted(step for step in before if after[step] != before[step])
print(json.dumps(changed))
"""


def module_name(relative: str) -> str:
    parts = ["mnistbench", *Path(relative).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.fixture(scope="module")
def changed_steps(tmp_path_factory) -> dict[str, list[str]]:
    """Which steps' fingerprints change when each core module is edited."""
    copy = tmp_path_factory.mktemp("core") / "mnistbench"
    shutil.copytree(REPO / "workflow" / "mnistbench", copy)
    env = {"PYTHONPATH": str(copy.parent), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def loaded_by(module: str) -> set[str]:
    """The core modules Python loads when it imports ``module``: what the code really imports."""
    code = f"import sys, {module}; print(' '.join(m for m in sys.modules if m == 'mnistbench'"
    code += " or m.startswith('mnistbench.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("step", sorted(identity.STEP_MODULES))
def test_a_steps_fingerprint_covers_every_core_module_it_loads(step):
    assert loaded_by(identity.STEP_MODULES[step]) <= identity.closure(identity.STEP_MODULES[step])


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_editing_a_core_module_changes_exactly_the_steps_that_import_it(path, changed_steps):
    relative = path.relative_to(REPO / "workflow" / "mnistbench").as_posix()
    importers = {
        step
        for step, module in identity.STEP_MODULES.items()
        if module_name(relative) in identity.closure(module)
    }
    assert set(changed_steps[relative]) == importers


def test_some_core_modules_change_no_step(changed_steps):
    untouched = {relative for relative, steps in changed_steps.items() if not steps}
    assert {"cli.py", "report/compare.py", "data/fetch.py"} <= untouched


def test_the_report_templates_are_part_of_the_report_step():
    files = identity.files_of(identity.closure(identity.STEP_MODULES["report"]))
    assert identity.PACKAGE / "report" / "templates" / "report.html.j2" in files


def test_a_backend_fingerprint_covers_the_core_helpers_it_imports():

    core = identity.closure("mnistbench_numpy", ("mnistbench_numpy", "mnistbench"))
    assert "mnistbench.plugin.denormals" in core
    assert "mnistbench_numpy.loop" in core


def test_a_name_imported_from_the_public_api_brings_its_defining_module_into_the_closure():
    # mnistbench_numpy.loop: from mnistbench.plugin import batches, ... (loaded on first use)
    core = identity.closure("mnistbench_numpy", ("mnistbench_numpy", "mnistbench"))
    assert {"mnistbench.plugin.helpers", "mnistbench.plugin.protocols"} <= core
