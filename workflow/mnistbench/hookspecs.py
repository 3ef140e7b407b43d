"""Hook specifications: the whole contract between mnistbench and a backend plugin.

The contract has a version, :data:`HOOK_VERSION`. A plugin states the version it was built for
as ``MNISTBENCH_HOOK_VERSION`` in the module its entry point names (no statement means 1). A
plugin built for another version is reported by name with both versions, and the others run.
The version changes only when an existing hook's meaning changes; new capabilities come as new
hooks, which older plugins simply do not implement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnistbench import hookspec

if TYPE_CHECKING:
    from mnistbench.backend import Backend

HOOK_VERSION = 1


@hookspec
def mnistbench_register_backends() -> list[Backend]:
    """Return the backends this plugin provides.

    Called once when the plugin manager is built, by the workflow (to plan the runs) and by each
    step that trains or evaluates. Keep it cheap: import heavy frameworks inside the backend's
    methods, not here, so that listing backends stays fast and a missing framework is reported
    by :meth:`Backend.unavailable_reason` rather than as an import error.

    A backend may also set ``resumable = True``: then its ``train`` continues from
    ``TrainSpec.start_epoch`` and ``TrainSpec.initial_state`` and yields its optimiser state in
    ``EpochResult.state``, so a stopped training job resumes from its last checkpoint (see
    :meth:`mnistbench.backend.Backend.train`). Without it, such a job starts again from epoch 1.

    :returns: A list of objects satisfying :class:`mnistbench.backend.Backend`; an empty list
        (or ``None``) means the plugin provides none.
    """
