"""bench/speed.py's table: each backend's median divided by its own framework's seed loop, as
``asv compare`` divides after by before, with the speed-up and a whole default run beside it."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def speed(bench_script):
    return bench_script("speed")


def rows(variant, runner, kind, seconds, device="cpu"):
    return [
        {"variant": variant, "runner": runner, "device": device, "kind": kind, "unit": "u"}
        | {"seconds": s}
        for s in seconds
    ]


def test_each_backend_is_divided_by_its_frameworks_seed_loop(speed):
    table = pd.DataFrame(
        rows("mlp", "numpy", "backend", [1.0, 1.2, 9.0])
        + rows("mlp", "torch", "backend", [4.0, 4.0])
        + rows("mlp", "seed 004 NumPy", "seed", [2.0, 2.4, 2.8])
        + rows("mlp", "seed 004 PyTorch", "seed", [4.0])
        + rows("predictive_coding", "numpy", "backend", [1.0])
    )
    summary = speed.summarise(table).set_index(["variant", "runner"])
    assert summary["speedup_vs_cpu"].isna().all()  # no other device ran
    numpy, torch = summary.loc[("mlp", "numpy")], summary.loc[("mlp", "torch")]
    assert (numpy["min"], numpy["median"]) == (1.0, 1.2)
    assert numpy["seed_loop"] == "seed 004 NumPy"
    assert numpy["ratio"] == pytest.approx(1.2 / 2.4) and numpy["mark"] == "-"
    assert numpy["speedup_vs_seed"] == pytest.approx(2.0)
    assert numpy["full_run_s"] == pytest.approx(1.2 * 20)  # mlp's default run: 20 epochs
    assert torch["seed_loop"] == "seed 004 PyTorch"
    assert torch["ratio"] == 1.0 and torch["mark"] == ""
    assert torch["speedup_vs_numpy"] == pytest.approx(1.2 / 4.0)
    assert summary.loc[("predictive_coding", "numpy")]["seed_loop"] == ""
    # the seed loops lead each variant's rows
    assert list(summary.loc["mlp"].index[:2]) == ["seed 004 NumPy", "seed 004 PyTorch"]


def test_a_backend_on_a_gpu_is_compared_with_itself_on_the_cpu_and_the_seed_loop(speed):
    table = pd.DataFrame(
        rows("mlp", "torch", "backend", [4.0, 4.4])
        + rows("mlp", "torch", "backend", [0.5, 0.4, 0.6], device="cuda")
        + rows("mlp", "jax", "backend", [0.2], device="cuda")  # no CPU run of it to divide by
        + rows("mlp", "seed 004 PyTorch", "seed", [4.0])
    )
    summary = speed.summarise(table).set_index(["variant", "runner", "device"])
    on_gpu = summary.loc[("mlp", "torch", "cuda")]
    assert on_gpu["median"] == 0.5
    assert on_gpu["speedup_vs_cpu"] == pytest.approx(4.2 / 0.5)
    assert on_gpu["seed_loop"] == "seed 004 PyTorch"
    assert on_gpu["speedup_vs_seed"] == pytest.approx(4.0 / 0.5)
    assert pd.isna(summary.loc[("mlp", "jax", "cuda")]["speedup_vs_cpu"])
    assert speed.label("torch", "cuda") == "torch (cuda)" and speed.label("torch", "cpu") == "torch"
    # the seed loop first, then the backends by name, each's devices as they were asked for
    assert list(summary.loc["mlp"].index) == [
        ("seed 004 PyTorch", "cpu"),
        ("jax", "cuda"),
        ("torch", "cpu"),
        ("torch", "cuda"),
    ]


def test_every_epoch_is_in_the_unit_of_the_variants_plan(speed):
    assert speed.epoch_unit("sigmoid_mlp", 60000) == "500 steps of 128"
    assert speed.epoch_unit("dropout_mlp", 60000) == "1,000 samples of 1"
    assert speed.epoch_unit("mlp", 60000) == "60,000 samples of 8"
    assert speed.full_run_epochs("sigmoid_mlp") == 20  # the seed's 10,000 iterations
    assert speed.full_run_epochs("dropout_mlp") == 100


def test_each_implementation_is_divided_by_its_frameworks_seed_loop(speed):
    table = pd.DataFrame(
        rows("mlp", "torch", "backend", [1.0])
        + rows("mlp", "torch autograd", "backend", [3.0])
        + rows("mlp", "seed 004 NumPy", "seed", [2.0])
        + rows("mlp", "seed 004 PyTorch", "seed", [6.0])
    )
    autograd = (
        speed.summarise(table).set_index(["variant", "runner"]).loc[("mlp", "torch autograd")]
    )
    assert autograd["seed_loop"] == "seed 004 PyTorch"
    assert autograd["ratio"] == pytest.approx(0.5)


def test_a_backend_runs_once_per_implementation_it_offers_for_the_variant(speed):
    from mnistbench.plugin.registry import load_backends

    registry = load_backends()
    names = [r[0] for r in speed.runners("mlp", registry, ["torch"], ["cpu"], False)]
    assert names == ["torch", "torch autograd", "torch compiled"]
    only = speed.runners("predictive_coding", registry, ["torch"], ["cpu"], False)
    assert [r[0] for r in only] == ["torch"]
    wanted = speed.runners("mlp", registry, ["torch"], ["cpu"], False, ["autograd"])
    assert [r[0] for r in wanted] == ["torch autograd"]
