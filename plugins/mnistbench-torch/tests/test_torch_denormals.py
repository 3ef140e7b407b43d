"""The PyTorch loop trains on the CPU with denormals flushed to zero, and only while it trains."""

import types

import numpy as np
import torch

from mnistbench.train import build_spec
from mnistbench.variants import VARIANTS
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
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (96, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 96, dtype=np.uint8)
    mlp = VARIANTS["mlp"]
    spec = build_spec(mlp, mlp.hyperparameters(mlp.small), images, labels, 0, "cpu")
    loop.Trainer(spec, module).train_epoch(0)
    assert len(seen) == spec.steps_in_epoch(0) and not any(seen)
    assert square_of_tiny() > 0
