"""bench/mnn_floor.py: the kernels every mnn step runs, timed per backend beside its whole step,
summed into a floor, and set against the step a speed-up over the seed loop allows."""

from __future__ import annotations

import pandas as pd
import pytest

from mnistbench.data import datasets
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS


@pytest.fixture
def floor(bench_script):
    return bench_script("mnn_floor")


def test_the_floor_is_the_kernels_sum_and_the_budget_the_seed_step_over_the_speedup(floor):
    kernels = {"gather": 1.0, "drive": 3.0, "pixel grad": 2.0, "adam": 4.0}
    rows = [
        {"repeat": r, "runner": "numpy", "what": what, "seconds": (value + r) * 1e-6}
        for r in range(3)
        for what, value in {**kernels, "step": 20.0}.items()
    ] + [{"repeat": r, "runner": "seed", "what": "step", "seconds": 800e-6} for r in range(3)]
    summary = floor.summarise(pd.DataFrame(rows), speedup=40)
    numpy = summary.loc["numpy"]
    assert list(summary.index) == ["numpy"]  # the seed loop is the budget, not a row
    assert numpy["drive"] == pytest.approx(4.0)  # the median of 3, 4 and 5 µs
    assert numpy["floor"] == pytest.approx(sum(kernels.values()) + 4)
    assert numpy["rest"] == pytest.approx(21.0 - numpy["floor"])
    assert numpy["budget"] == pytest.approx(800 / 40)
    assert list(summary.columns) == floor.COLUMNS


def test_every_backend_and_the_seed_loop_are_timed_on_real_steps(floor, sample_dir):
    pytest.importorskip("torch")  # the seed loop and one backend are PyTorch's
    data = datasets.load(sample_dir, train_limit=320, test_limit=16)
    variant = VARIANTS["mnn"]
    hp = variant.hyperparameters({"epochs": 1})
    spec = build_spec(variant, hp, data.train_images, data.train_labels, 0, "cpu")
    assert len(floor.full_batches(spec)) == 5  # 320 images in batches of 64

    table = floor.measure(spec, ["numpy", "torch"], repeats=2)

    assert set(table["repeat"]) == {0, 1}
    measured = table.groupby(["runner", "what"])["seconds"]
    assert (measured.min() > 0).all() and (measured.count() == 2).all()
    for backend in ("numpy", "torch"):
        assert set(table[table["runner"] == backend]["what"]) == {*floor.KERNELS, "step"}
    assert set(table[table["runner"] == "seed"]["what"]) == {"step"}
    summary = floor.summarise(table, speedup=40)
    assert list(summary.index) == ["numpy", "torch"]
    assert summary.notna().all().all()
