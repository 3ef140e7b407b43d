"""The NumPy loop trains with denormals flushed to zero, and leaves the register as it was."""

import types

import numpy as np
import pytest

from mnistbench.plugin.denormals import supported
from mnistbench.plugin.testing import small_spec
from mnistbench_numpy import loop

TINY = np.float32(1e-20)


@pytest.mark.skipif(not supported(), reason="flushing denormals is implemented for x86-64 only")
def test_every_step_runs_with_denormals_flushed_and_none_after_the_epoch():
    seen = []

    def probe_step(w, state, x, y, extras, hp):
        seen.append(float(TINY * TINY))
        return 0.0

    module = types.SimpleNamespace(STEP=probe_step, initial_state=lambda w: {})
    spec = small_spec("mlp")
    loop.Trainer(spec, module).train_epoch(0)
    assert len(seen) == spec.steps_in_epoch(0) and not any(seen)
    assert TINY * TINY > 0
