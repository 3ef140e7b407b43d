"""The PyTorch loop's two ways of gathering a CPU epoch train exactly the same run."""

import numpy as np
import pytest

from mnistbench.backend import train_all
from mnistbench.plugins import load_backends
from mnistbench.testing import small_spec
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
