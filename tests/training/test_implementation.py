"""The train step runs the implementation its point names, and records the one it ran."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.training import train as train_step
from tests.conftest import SAMPLE_DATASET


def train(sample_dir, out, backend: str, point: dict | None = None, variant: str = "mlp"):
    return train_step.run(
        data=sample_dir,
        dataset=SAMPLE_DATASET,
        variant=variant,
        backend=backend,
        seed=0,
        out=out,
        hyperparameters={"epochs": 1, "hidden": 16} if variant == "mlp" else {"epochs": 1},
        train_limit=200,
        test_limit=100,
        point=point,
    )


def test_a_run_without_one_records_the_backends_default(sample_dir, tmp_path):
    train(sample_dir, tmp_path / "numpy", "numpy")
    train(sample_dir, tmp_path / "jax", "jax")
    assert json.loads((tmp_path / "numpy" / "train.json").read_text())["implementation"] == "tuned"
    assert json.loads((tmp_path / "jax" / "train.json").read_text())["implementation"] == "autograd"


def test_the_points_implementation_is_the_one_that_trains(sample_dir, tmp_path):
    """Autograd and the hand-written steps start from the same weights and samples: they end
    within float32 rounding of each other."""
    tuned = train(sample_dir, tmp_path / "tuned", "torch")
    autograd = train(sample_dir, tmp_path / "autograd", "torch", {"implementation": "autograd"})
    assert (tuned["implementation"], autograd["implementation"]) == ("tuned", "autograd")
    assert autograd["point"] == {"implementation": "autograd"}
    weights = [np.load(tmp_path / name / "weights.npz") for name in ("tuned", "autograd")]
    np.testing.assert_allclose(weights[0]["W1"], weights[1]["W1"], rtol=1e-3, atol=1e-5)
    assert autograd["final_train_loss"] == pytest.approx(tuned["final_train_loss"], rel=1e-4)


def test_an_implementation_the_variant_lacks_is_one_line_and_no_output(sample_dir, tmp_path):
    with pytest.raises(MnistbenchError) as error:
        train(sample_dir, tmp_path / "out", "torch", {"implementation": "autograd"},
              variant="predictive_coding")  # fmt: skip
    assert str(error.value) == (
        "backend 'torch' has no 'autograd' implementation of variant 'predictive_coding' "
        "(it has: tuned)"
    )
    assert not (tmp_path / "out").exists()
