"""The PyTorch loop's two ways of gathering a CPU epoch train exactly the same run, and its
per-epoch loss reduction gives each step's loss."""

import dataclasses

import numpy as np
import pytest

from mnistbench.plugin.backend import train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.testing import small_spec, step_losses
from mnistbench_torch import loop


@pytest.mark.parametrize("variant", ["mlp", "dropout_mlp"])
def test_gathering_each_batch_trains_what_gathering_the_epoch_first_trains(variant, monkeypatch):
    spec = small_spec(variant)
    torch_backend = load_backends().get("torch")
    epoch_first = train_all(torch_backend, spec)
    monkeypatch.setattr(loop, "GATHER_EPOCH_BYTES", 0)  # every epoch "outgrows the cache"
    per_batch = train_all(torch_backend, spec)
    for a, b in zip(epoch_first, per_batch, strict=True):
        np.testing.assert_array_equal(a.losses, b.losses)
        for name, value in a.weights.items():
            np.testing.assert_array_equal(b.weights[name], value, err_msg=name)


def test_dropout_losses_reduced_once_per_epoch_are_each_steps_loss():
    """dropout_mlp's step returns its residuals and the loop reduces an epoch's at once, a
    shorter last batch apart: at batches of 5 over 12 samples (the last of 2) every step's loss
    is still the NumPy backend's."""
    spec = dataclasses.replace(small_spec("dropout_mlp"), batch_size=5)
    assert [spec.steps_in_epoch(e) for e in range(len(spec.epochs))] == [3, 3]
    registry = load_backends()
    ours = step_losses(registry.get("torch"), spec)
    np.testing.assert_allclose(ours, step_losses(registry.get("numpy"), spec), rtol=1e-5)
