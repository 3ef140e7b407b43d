"""The public API: every name a plugin author imports has one home, ``mnistbench.plugin``, the
docs show exactly those names, and the modules they moved from still work, with a warning."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import warnings

import pytest

import mnistbench
import mnistbench.plugin as api
from tests.conftest import REPO

AUTHOR_PAGES = [REPO / "docs" / "plugins.md", REPO / "docs" / "write-a-variant.md"]
MOVED = {
    "mnistbench.testing": "mnistbench.plugin.testing",
    "mnistbench.backend": "mnistbench.plugin.backend",
    "mnistbench.hookspecs": "mnistbench.plugin.hookspecs",
    "mnistbench.contract": "mnistbench.plugin.contract",
    "mnistbench.denormals": "mnistbench.plugin.denormals",
    "mnistbench.reference": "mnistbench.variants.reference",
}
IMPORT = re.compile(r"^from (mnistbench[\w.]*) import ([\w, ]+)$", re.MULTILINE)


def code_imports() -> list[tuple[str, str]]:
    """(module, name) for every ``from mnistbench... import`` in the author pages' code blocks."""
    found = []
    for page in AUTHOR_PAGES:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL):
            for module, names in IMPORT.findall(block):
                found += [(module, name.strip()) for name in names.split(",")]
    return found


def api_table_names() -> set[str]:
    """The names in the first column of docs/plugins.md's public-API table."""
    text = (REPO / "docs" / "plugins.md").read_text()
    section = text.split("## The public API", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| (.+?) \|", section, flags=re.MULTILINE)
    return {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}


def test_every_public_name_resolves_to_its_definition():
    for name in api.__all__:
        value = getattr(api, name)
        assert value is not None, name


def test_the_docs_table_lists_exactly_the_public_names():
    assert api_table_names() == set(api.__all__)


@pytest.mark.parametrize(("module", "name"), code_imports(), ids="{0[1]}".format)
def test_every_name_the_docs_import_is_importable_without_warning(module, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert hasattr(importlib.import_module(module), name), f"{module} has no {name}"


def test_the_docs_import_from_the_public_home():
    homes = {module for module, _ in code_imports()}
    assert homes == {"mnistbench.plugin"}, homes


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        api.NoSuchThing  # noqa: B018


@pytest.mark.parametrize(("old", "new"), MOVED.items())
def test_a_moved_module_warns_and_is_its_new_home(old, new, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=rf"{re.escape(old)} moved to {re.escape(new)}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_the_old_conformance_import_gives_the_suite_itself(monkeypatch):
    monkeypatch.delitem(sys.modules, "mnistbench.testing", raising=False)
    with pytest.warns(DeprecationWarning):
        from mnistbench.testing import BackendConformance
    assert BackendConformance is api.BackendConformance


def test_the_version_says_the_api_gained_its_home():
    major_minor = tuple(int(part) for part in mnistbench.__version__.split(".")[:2])
    assert major_minor >= (0, 2)


def test_importing_the_api_needs_no_pytest():
    code = "import sys, mnistbench.plugin as p; p.TrainSpec; print('pytest' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
