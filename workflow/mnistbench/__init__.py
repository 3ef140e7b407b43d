"""mnistbench: a reproducible benchmark of pluggable neural-network backends on MNIST-format data.

A backend plugin writes ``from mnistbench import hookimpl`` and implements
:func:`mnistbench.plugin.hookspecs.mnistbench_register_backends`.
"""

import pluggy

__version__ = "0.1.0"

PROJECT_NAME = "mnistbench"
ENTRY_POINT_GROUP = "mnistbench.backends"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "__version__", "hookimpl", "hookspec"]
