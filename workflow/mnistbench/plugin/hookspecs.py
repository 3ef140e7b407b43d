"""Hook specifications: the whole contract between mnistbench and a backend plugin.

The contract has a version, :data:`HOOK_VERSION`. A plugin states the version it was built for
as ``MNISTBENCH_HOOK_VERSION`` in the module its entry point names (no statement means 1). A
plugin built for another version is reported by name with both versions, and the others run.
The version changes only when an existing hook's meaning changes; new capabilities come as new
hooks, which older plugins simply do not implement.

Versions: 1, backends trained through ``Backend.train(spec) -> Iterator[EpochResult]``, timed
inside the iterator; 2, through ``Backend.setup(spec) -> Trainer`` (not timed) and
``Trainer.train_epoch(epoch) -> EpochResult`` (timed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnistbench import hookspec

if TYPE_CHECKING:
    from mnistbench.plugin.backend import Backend

HOOK_VERSION = 2


@hookspec
def mnistbench_register_backends() -> list[Backend]:
    """Return the backends this plugin provides.

    Called once when the plugin manager is built, by the workflow (to plan the runs) and by each
    step that trains or evaluates. Keep it cheap: import heavy frameworks inside the backend's
    methods, not here, so that listing backends stays fast and a missing framework is reported
    by :meth:`Backend.unavailable_reason` rather than as an import error.

    Each backend trains in two phases: ``setup(spec)``, not timed, moves the data and weights to
    the device, compiles and warms up, and returns a trainer; ``trainer.train_epoch(epoch)``,
    timed, trains one epoch and returns its :class:`mnistbench.plugin.backend.EpochResult`.

    A backend may also set ``resumable = True``: then its trainer continues from
    ``TrainSpec.start_epoch`` and ``TrainSpec.initial_state`` and returns its optimiser state in
    ``EpochResult.state``, so a stopped training job resumes from its last checkpoint (see
    :meth:`mnistbench.plugin.backend.Backend.setup`). Without it, such a job starts again from
    epoch 1.

    :returns: A list of objects satisfying :class:`mnistbench.plugin.backend.Backend`; an empty list
        (or ``None``) means the plugin provides none.
    """
