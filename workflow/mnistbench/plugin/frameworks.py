"""What a backend says about the framework it computes with, without importing it.

A backend that wraps a framework (PyTorch, JAX, ...) reports that framework's installed version
and, where it is missing, why the backend cannot run: both from package metadata and the import
system, so listing backends stays fast and a machine without the framework lists the backend as
unavailable instead of failing to load it. A third-party backend writes::

    @property
    def version(self) -> str:
        return installed_version("tensorflow")

    def unavailable_reason(self) -> str | None:
        return missing_reason("tensorflow", "TensorFlow")
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

NOT_INSTALLED = "not installed"


def installed_version(distribution: str) -> str:
    """The installed version of ``distribution`` (e.g. ``"torch"``), or ``"not installed"``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return NOT_INSTALLED


def missing_reason(module: str, framework: str, distribution: str | None = None) -> str | None:
    """Why a backend needing ``module`` cannot run, naming ``framework`` and the ``pip install``
    of ``distribution`` (the module's name by default); None when ``module`` can be imported."""
    if importlib.util.find_spec(module) is not None:
        return None
    return f"{framework} is not installed (pip install {distribution or module})"
