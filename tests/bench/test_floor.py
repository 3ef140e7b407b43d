"""bench/floor.py: every variant's step beside the kernels its framework cannot skip, per
backend, summed into a floor; the ratio of the two, and a reason where it is over 1.5."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from mnistbench.data import datasets
from mnistbench.variants import VARIANTS
from tests.conftest import REPO


@pytest.fixture
def floor(bench_script):
    return bench_script("floor")


def synthetic(parts: dict[str, float], step: float, variant="mlp", backend="numpy"):
    """Three repeats of each part and the step, repeat r adding r µs."""
    return [
        {"variant": variant, "backend": backend, "repeat": r, "what": what}
        | {"seconds": (value + r) * 1e-6}
        for r in range(3)
        for what, value in {**parts, "step": step}.items()
    ]


def test_the_floor_is_the_kernels_median_sum_and_the_ratio_the_step_over_it(floor):
    parts = {"gather": 1.0, "W1 forward": 3.0, "W1 gradient": 2.0, "other calls": 4.0}
    summary = floor.summarise(pd.DataFrame(synthetic(parts, step=20.0)), why={})
    row = summary.iloc[0]
    assert list(summary.columns) == floor.COLUMNS
    assert row["floor_us"] == pytest.approx(sum(parts.values()) + 4)  # medians: each part + 1
    assert row["step_us"] == pytest.approx(21.0)
    assert row["ratio"] == pytest.approx(21.0 / 14.0)
    assert row["why"] == ""  # 1.5 exactly needs no reason


def test_a_ratio_over_the_limit_carries_its_reason_or_says_it_has_none(floor):
    rows = synthetic({"kernels (one scan)": 10.0}, 30.0, "mnn", "jax")
    rows += synthetic({"gather": 10.0}, 30.0, "mnn", "torch")
    why = {("mnn", "jax"): "a reason"}
    summary = floor.summarise(pd.DataFrame(rows), why=why).set_index("backend")
    assert summary.loc["jax", "ratio"] == pytest.approx(31 / 11)
    assert summary.loc["jax", "why"] == "a reason"
    assert summary.loc["torch", "why"] == "not explained"


def test_a_variant_without_a_description_gets_a_row_that_says_so(floor):
    rows = floor.undescribed(["numpy"], ["mlp", "somebody_elses"])
    assert list(rows["variant"]) == ["somebody_elses"]
    assert "no kernels described" in rows.iloc[0]["why"]


@pytest.mark.parametrize("variant", ["mlp", "sigmoid_mlp", "dropout_mlp", "predictive_coding"])
def test_each_dense_weight_of_a_variant_is_a_forward_product_of_its_description(floor, variant):
    from floors.variants import DESCRIBED

    hp = VARIANTS[variant].hyperparameters()
    kernels = DESCRIBED[variant](hp, (784,))
    forward = {(p.k, p.n) for p in kernels.products if p.kind == "forward"}
    matrices = {s for s in VARIANTS[variant].weight_shapes(hp).values() if len(s) == 2}
    assert matrices <= forward
    assert kernels.calls >= kernels.kernel_calls()


def test_every_backend_is_timed_on_real_steps_of_sample_images(floor, sample_dir):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    data = datasets.load(sample_dir, train_limit=320, test_limit=16)
    specs = floor.make_specs(data, ["mlp", "mnn"])
    assert floor.full_batches(specs["mnn"][0]).shape == (5, 64)  # 320 images in batches of 64

    table = floor.measure(specs, ["numpy", "torch", "jax"], repeats=2)

    assert set(table["repeat"]) == {0, 1}
    measured = table.groupby(["variant", "backend", "what"])["seconds"]
    assert (measured.min() > 0).all() and (measured.count() == 2).all()
    whats = table.groupby("backend")["what"].agg(set)
    assert {"gather", "drive x @ A[:784]", "adam", "other calls", "step"} <= whats["torch"]
    assert whats["jax"] == {"kernels (one scan)", "step"}
    summary = floor.summarise(table)
    assert len(summary) == 6 and summary[["floor_us", "step_us", "ratio"]].notna().all().all()


def test_the_command_line_writes_its_table(sample_dir, tmp_path):
    out = tmp_path / "floor.csv"
    command = [sys.executable, str(REPO / "bench" / "floor.py"), "--train-limit", "320"]
    command += ["--repeats", "1", "--variants", "mlp", "--backends", "numpy"]
    subprocess.run([*command, "--data", str(sample_dir), "--out", str(out)], check=True)

    summary = pd.read_csv(out, keep_default_na=False)
    assert list(summary.columns) == ["variant", "backend", "floor_us", "step_us", "ratio", "why"]
    assert list(zip(summary["variant"], summary["backend"])) == [("mlp", "numpy")]
    assert summary.loc[0, "floor_us"] > 0 and summary.loc[0, "step_us"] > 0
    measurements = out.with_name("floor-measurements.csv")
    again = tmp_path / "again.csv"
    summarise = [sys.executable, str(REPO / "bench" / "floor.py"), "--variants", "mlp"]
    summarise += ["--backends", "numpy", "--summarise", str(measurements), "--out", str(again)]
    subprocess.run(summarise, check=True)
    assert again.read_text() == out.read_text()  # the same table, nothing measured
