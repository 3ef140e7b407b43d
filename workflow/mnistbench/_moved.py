"""Old homes of public names: a module that moved stays importable from where it was.

Each old module is a two-line file that calls :func:`moved`; importing it warns once with a
``DeprecationWarning`` naming the new home and then *is* the new module (the same objects, so a
conformance suite subclassed from the old name is the suite itself).
"""

from __future__ import annotations

import importlib
import sys
import warnings

SINCE = "0.2.0"  # the release that gave the public API its one home, mnistbench.plugin


def moved(old: str, new: str) -> None:
    """Make module ``old`` an alias of ``new``, warning the importer of ``old``."""
    warnings.warn(
        f"{old} moved to {new} in mnistbench {SINCE}; import from {new} "
        f"(or the public API, mnistbench.plugin) instead",
        DeprecationWarning,
        stacklevel=3,
    )
    sys.modules[old] = importlib.import_module(new)
