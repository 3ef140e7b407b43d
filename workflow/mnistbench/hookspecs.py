"""Hook specifications: the whole contract between mnistbench and a backend plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnistbench import hookspec

if TYPE_CHECKING:
    from mnistbench.backend import Backend


@hookspec
def mnistbench_register_backends() -> list[Backend]:
    """Return the backends this plugin provides.

    Called once when the plugin manager is built, by the workflow (to plan the runs) and by each
    step that trains or evaluates. Keep it cheap: import heavy frameworks inside the backend's
    methods, not here, so that listing backends stays fast and a missing framework is reported
    by :meth:`Backend.unavailable_reason` rather than as an import error.

    :returns: A list of objects satisfying :class:`mnistbench.backend.Backend`; an empty list
        (or ``None``) means the plugin provides none.
    """
