"""The PyTorch loop trains on the CPU with denormals flushed to zero, and only while it trains."""

import types

import torch

from mnistbench.plugin.testing import small_spec
from mnistbench_torch import loop

TINY = 1e-20


def square_of_tiny() -> float:
    t = torch.tensor(TINY, dtype=torch.float32)
    return float(t * t)


def test_every_cpu_step_runs_with_denormals_flushed_and_none_after_the_epoch():
    seen = []

    def probe_step(w, state, x, y, extras, hp):
        seen.append(square_of_tiny())
        return torch.zeros(())

    module = types.SimpleNamespace(STEP=probe_step)
    spec = small_spec("mlp")
    loop.Trainer(spec, module).train_epoch(0)
    assert len(seen) == spec.steps_in_epoch(0) and not any(seen)
    assert square_of_tiny() > 0
