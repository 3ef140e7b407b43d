"""mnistbench: a reproducible benchmark of pluggable neural-network backends on MNIST-format data.

A backend plugin writes ``from mnistbench import hookimpl`` and implements
:func:`mnistbench.plugin.hookspecs.mnistbench_register_backends`; a variant plugin names its
:class:`mnistbench.variants.base.Variant` in the ``mnistbench.variants`` entry-point group.
"""

import pluggy

__version__ = "0.2.0"  # 0.2.0: the public API has one home, mnistbench.plugin

PROJECT_NAME = "mnistbench"
ENTRY_POINT_GROUP = "mnistbench.backends"
VARIANT_ENTRY_POINT_GROUP = "mnistbench.variants"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "VARIANT_ENTRY_POINT_GROUP",
    "__version__",
    "hookimpl",
    "hookspec",
]
