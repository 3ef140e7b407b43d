"""The public API of mnistbench: everything a backend or variant author imports, in one place.

    from mnistbench.plugin import hookimpl, TrainSpec, EpochResult, Variant

Every name in :data:`__all__` is documented in ``docs/plugins.md`` and stays importable from here
across releases; a name that moves keeps working from its old home with a
``DeprecationWarning`` that names this one. The names are loaded on first use, so importing this
package costs nothing and the conformance suites (which need pytest, the ``testing`` extra) are
imported only by a test file that asks for them.

The submodules (``backend``, ``registry``, ``testing``, ...) are where each name is defined; the
host's own machinery among them (discovery, the registry) is not part of this API.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# The conformance suites run inside an author's pytest, from an installed package, where pytest
# does not rewrite asserts unless told to: then a failing assert shows its values too. Told
# here, before a test file's import of either suite can load it.
SUITES = ("mnistbench.plugin.testing", "mnistbench.plugin.variant_conformance")
if "pytest" in sys.modules:
    sys.modules["pytest"].register_assert_rewrite(*SUITES)

# name -> the module that defines it
_HOMES = {
    # hooks
    "hookimpl": "mnistbench",
    "HOOK_VERSION": "mnistbench.plugin.hookspecs",
    # what a backend is
    "Backend": "mnistbench.plugin.backend",
    "Trainer": "mnistbench.plugin.backend",
    "TrainSpec": "mnistbench.plugin.backend",
    "EpochResult": "mnistbench.plugin.backend",
    # what a variant is
    "Variant": "mnistbench.variants.base",
    "Contract": "mnistbench.variants.base",
    "Plan": "mnistbench.variants.base",
    "Reference": "mnistbench.variants.parts",
    "Cost": "mnistbench.variants.parts",
    "StepModule": "mnistbench.variants.parts",
    "Shape": "mnistbench.data.shapes",
    "MNIST": "mnistbench.data.shapes",
    "flatten_scaled": "mnistbench.variants.base",
    "unit_pixels": "mnistbench.variants.base",
    "shuffled_plan": "mnistbench.variants.base",
    "file_order_plan": "mnistbench.variants.base",
    # the float64 pieces a variant's reference arithmetic is written from
    "SGD": "mnistbench.variants.float64",
    "Adam": "mnistbench.variants.float64",
    "relu": "mnistbench.variants.float64",
    "softmax": "mnistbench.variants.float64",
    "cross_entropy": "mnistbench.variants.float64",
    # helpers the built-in backends use too
    "installed_version": "mnistbench.plugin.frameworks",
    "missing_reason": "mnistbench.plugin.frameworks",
    "backend_variants": "mnistbench.plugin.variant_registry",
    "variant_module": "mnistbench.plugin.variant_registry",
    "StepProtocol": "mnistbench.plugin.protocols",
    "flush_denormals": "mnistbench.plugin.denormals",
    "batches": "mnistbench.plugin.helpers",
    "stacked_batches": "mnistbench.plugin.helpers",
    "trained_part": "mnistbench.plugin.helpers",
    "float32_weights": "mnistbench.plugin.helpers",
    "scores_in_chunks": "mnistbench.plugin.helpers",
    "job_threads": "mnistbench.plugin.helpers",
    # the conformance suites (need pytest: pip install 'mnistbench[testing]')
    "BackendConformance": "mnistbench.plugin.testing",
    "VariantConformance": "mnistbench.plugin.variant_conformance",
}

__all__ = sorted(_HOMES)


def home(name: str) -> str | None:
    """The module that defines the public name ``name``, or None for any other name: what a
    plugin's ``from mnistbench.plugin import name`` loads, so its fingerprint can cover it."""
    return _HOMES.get(name)


def __getattr__(name: str) -> Any:
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'mnistbench.plugin' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
