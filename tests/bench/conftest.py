"""Bench scripts imported as their command lines would run them."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from tests.conftest import REPO


@pytest.fixture
def bench_script(monkeypatch):
    """Import ``bench/<name>.py`` with bench/ on the path, as ``python bench/<name>.py`` would;
    the thread variables the scripts set at import are put back afterwards."""
    saved = dict(os.environ)
    monkeypatch.syspath_prepend(str(REPO / "bench"))

    def load(name: str):
        path = REPO / "bench" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    sys.modules.pop("speed", None)  # bench/floor.py imports it by its script name
    os.environ.clear()
    os.environ.update(saved)
