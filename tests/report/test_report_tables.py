"""The report's tables from a few hand-made runs: every value checked against one worked out here.

The runs are small enough to compute by hand (two seeds, round seconds), so each expected
number below is written from the inputs, not read from the code under test.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from mnistbench.report import tables as rt
from mnistbench.training.kernels import ITEM_PREFIX as KERNELS
from mnistbench.variants import VARIANTS


def run(backend, seed, *, variant="mlp", dataset="mnist", device="cpu", **values) -> dict:
    row = {
        "dataset": dataset,
        "variant": variant,
        "backend": backend,
        "seed": seed,
        "device": device,
        "test_accuracy": 0.9,
        "final_train_loss": 0.3,
        "epochs": 2,
        "train_samples": 4000,
        "test_samples": 1000,
        "train_seconds": 8.0,
        "samples_per_second": 1000.0,
        "predict_seconds": 0.5,
        "peak_rss_mb": 400.0,
        "train_memory_mb": 100.0,
        "job_wall_seconds": 12.0,
        "backend_version": "1.0",
        "hyperparameters": json.dumps({"hidden": 300, "lr": 0.1}),
        "train_limit": np.nan,
        "test_limit": np.nan,
    }
    return {**row, **values}


SUMMARY = pd.DataFrame(
    [
        run("numpy", 0, train_seconds=8.0, predict_seconds=0.5, test_accuracy=0.90),
        run("numpy", 1, train_seconds=12.0, predict_seconds=0.7, test_accuracy=0.94),
        run("numpy", 2, train_seconds=40.0, predict_seconds=0.6, test_accuracy=0.92),
        run("torch", 0, train_seconds=2.0, predict_seconds=0.1, train_memory_mb=300.0),
        run("torch", 1, train_seconds=6.0, predict_seconds=0.3, train_memory_mb=200.0),
    ]
)


def test_the_runs_table_gives_every_run_its_named_columns_and_predict_microseconds():
    table = rt.runs_table(SUMMARY)
    assert list(table.columns) == list(rt.RUN_COLUMNS.values())
    row = table.iloc[1]
    assert (
        row["backend"],
        row["seed"],
        row["train time (s, inside train_epoch, all epochs)"],
    ) == (
        "numpy",
        1,
        12.0,
    )
    assert row[rt.PREDICT_US] == pytest.approx(0.7 / 1000 * 1e6)  # 700 µs per image


def test_seconds_per_epoch_is_train_seconds_over_epochs():
    derived = rt.with_derived(SUMMARY)
    assert derived["epoch_seconds"].tolist() == pytest.approx([4.0, 6.0, 20.0, 1.0, 3.0])
    assert derived["predict_us"].tolist() == pytest.approx([500, 700, 600, 100, 300])


def test_the_speed_table_gives_min_median_max_and_ratios_of_medians():
    table = rt.speed_table(SUMMARY, "numpy").set_index("backend")
    numpy, torch = table.loc["numpy"], table.loc["torch"]
    assert (numpy["seeds"], torch["seeds"]) == (3, 2)
    assert (numpy["train s/epoch, min over seeds"], numpy["train s/epoch, max"]) == (4.0, 20.0)
    assert numpy["train s/epoch, median"] == 6.0 and torch["train s/epoch, median"] == 2.0
    speedup = rt.SPEEDUP.format("numpy")
    assert numpy[speedup] == 1.0 and torch[speedup] == pytest.approx(6.0 / 2.0)
    predict = "predict speed-up over numpy (×, ratio of medians)"
    assert torch["predict (µs per test image, median)"] == pytest.approx(200.0)
    assert torch[predict] == pytest.approx(600.0 / 200.0) and numpy[predict] == 1.0
    assert torch[rt.MEMORY] == 300.0
    assert numpy["training throughput (images/s, median)"] == 1000.0
    # the columns in the order the page shows them: spread, then ratio, then predict
    assert list(table.columns).index(speedup) == list(table.columns).index("train s/epoch, max") + 1
    assert list(table.columns)[-3:] == [
        "predict (µs per test image, median)",
        predict,
        rt.MEMORY,
    ]


def test_per_run_speed_ups_divide_the_baselines_median_by_each_run():
    found = rt.speedups(SUMMARY, "numpy")
    assert found["train_speedup"].tolist() == pytest.approx([6 / 4, 6 / 6, 6 / 20, 6 / 1, 6 / 3])
    assert found["predict_speedup"].tolist() == pytest.approx([600 / 500, 600 / 700, 1, 6, 2])


def test_speed_ups_are_nan_where_the_baseline_has_no_run_of_that_variant():
    summary = pd.concat([SUMMARY, pd.DataFrame([run("torch", 0, variant="mnn")])])
    found = rt.speed_table(summary, "numpy").set_index(["variant", "backend"])
    assert np.isnan(found.loc[("mnn", "torch"), rt.SPEEDUP.format("numpy")])
    assert found.loc[("mlp", "torch"), rt.SPEEDUP.format("numpy")] == pytest.approx(3.0)


def test_the_accuracy_table_gives_mean_sample_sd_and_the_seed_figure_on_mnist_only():
    summary = pd.concat([SUMMARY, pd.DataFrame([run("numpy", 0, dataset="fashion")])])
    table = rt.accuracy_table(summary).set_index(["dataset", "backend"])
    numpy = table.loc[("mnist", "numpy")]
    assert numpy["seeds"] == 3
    assert numpy["test accuracy (fraction, mean over seeds)"] == pytest.approx(0.92)
    assert numpy["sd over seeds"] == pytest.approx(0.02)  # sample sd of 0.90, 0.94, 0.92
    assert numpy["source notebook's test accuracy (its full recipe)"] == 0.9829
    assert np.isnan(
        table.loc[("fashion", "numpy"), "source notebook's test accuracy (its full recipe)"]
    )
    assert (numpy["epochs"], numpy["training images"], numpy["test images"]) == (2, 4000, 1000)
    assert list(rt.accuracy_table(summary).columns)[:7] == [
        "dataset",
        "variant",
        "backend",
        "point",
        "device",
        "implementation",
        "seeds",
    ]


def test_the_accuracy_table_is_sorted_by_its_keys_whatever_the_summarys_order():
    summary = pd.concat([SUMMARY, pd.DataFrame([run("jax", 0, dataset="fashion")])])
    shuffled = summary.sample(frac=1.0, random_state=0)
    table = rt.accuracy_table(shuffled)
    assert table[["dataset", "backend"]].values.tolist() == [
        ["fashion", "jax"],
        ["mnist", "numpy"],
        ["mnist", "torch"],
    ]
    pd.testing.assert_frame_equal(table, rt.accuracy_table(summary))


def test_a_backend_whose_runs_all_diverged_keeps_its_row_without_an_interval():
    diverged = [run("jax", seed, test_accuracy=np.nan) for seed in (0, 1)]
    table = rt.accuracy_table(pd.concat([SUMMARY, pd.DataFrame(diverged)]))
    jax = table.set_index("backend").loc["jax"]
    assert jax["seeds"] == 2 and np.isnan(jax["test accuracy (fraction, mean over seeds)"])
    assert np.isnan(jax[rt.ACCURACY_LOW]) and np.isnan(jax[rt.ACCURACY_HIGH])
    assert table["backend"].tolist() == ["jax", "numpy", "torch"]


def test_the_accuracy_table_leaves_epochs_and_images_empty_when_the_summary_lacks_them():
    summary = SUMMARY.drop(columns=["epochs", "train_samples", "test_samples"])
    row = rt.accuracy_table(summary).iloc[0]
    assert np.isnan(row["epochs"]) and np.isnan(row["training images"])
    assert np.isnan(row["test images"])


def test_departures_name_each_changed_hyperparameter_beside_the_recipe_and_the_subsets():
    row = run("numpy", 0, hyperparameters=json.dumps({"lr": 0.5, "hidden": 300, "epochs": 1}))
    row.update(train_limit=4000.0, test_limit=1000)
    assert rt.recipe_departures(row) == (
        "epochs 1 (source notebook: 20); lr 0.5 (source notebook: 0.1); "
        "first 4,000 train images only; first 1,000 test images only"
    )
    assert rt.recipe_departures(run("numpy", 0)) == ""


def test_a_run_on_the_seed_recipe_departs_from_nothing():
    row = {"variant": "mlp", "hyperparameters": json.dumps(VARIANTS["mlp"].defaults)}
    assert rt.recipe_departures(row) == ""


def test_an_unknown_variant_or_missing_hyperparameters_note_only_the_subsets():
    row = {"variant": "third_party", "train_limit": 500}
    assert rt.recipe_departures(row) == "first 500 train images only"


def test_departures_use_the_seed_recipe_over_the_defaults_and_flag_another_network():
    row = run("numpy", 0, variant="mnn", hyperparameters=json.dumps({"init_scale": 0.1}))
    assert rt.recipe_departures(row) == "init_scale 0.1 (source notebook: 1)"
    pc = run("numpy", 0, variant="predictive_coding", hyperparameters=json.dumps({}))
    assert rt.recipe_departures(pc) == "another network (see Variants)"
    unknown = run("numpy", 0, variant="nonesuch", hyperparameters=None, test_limit=10)
    assert rt.recipe_departures(unknown) == "first 10 test images only"


def test_the_accuracy_table_joins_the_seeds_distinct_departures():
    summary = pd.DataFrame(
        [
            run("numpy", 0, hyperparameters=json.dumps({"lr": 0.5})),
            run("numpy", 1, hyperparameters=json.dumps({"lr": 0.5})),
            run("numpy", 2, hyperparameters=json.dumps({"epochs": 1})),
            run("numpy", 3),
        ]
    )
    found = rt.accuracy_table(summary).iloc[0]["departs from the source notebook's recipe"]
    assert found == "epochs 1 (source notebook: 20); lr 0.5 (source notebook: 0.1)"


def history(seconds, accuracy, seed=0, backend="numpy", variant="mlp"):
    return pd.DataFrame(
        {
            "dataset": "mnist",
            "variant": variant,
            "backend": backend,
            "seed": seed,
            "epoch": range(1, len(seconds) + 1),
            "test_accuracy": accuracy,
            "seconds": seconds,
        }
    )


def test_time_to_accuracy_is_the_median_over_the_seeds_that_reach_it():
    runs = pd.concat(
        [
            history([1.0, 2.0, 4.0], [0.85, 0.9, 0.95], seed=0),  # 0.9 at epoch 2 after 3 s
            history([2.0, 2.0, 2.0], [0.5, 0.7, 0.91], seed=1),  # epoch 3 after 6 s
            history([1.0, 1.0, 1.0], [0.5, 0.6, 0.7], seed=2),  # never
            history([1.0], [0.99], variant="mnn"),  # no threshold: left out
        ]
    )
    [row] = rt.time_to_accuracy(runs, {"mlp": 0.9}).to_dict("records")
    assert row == {
        "dataset": "mnist",
        "variant": "mlp",
        "backend": "numpy",
        "point": "default",
        "target test accuracy": 0.9,
        "seeds reaching it": "2 of 3",
        "training seconds to reach it (median)": 4.5,
        "epoch reached (median)": 2.5,
        "best test accuracy (fraction, max over seeds)": 0.95,
    }


def test_time_to_accuracy_of_seeds_that_never_reach_it_is_blank_without_a_warning():
    runs = pd.concat([history([1.0, 1.0], [0.5, 0.6], seed=s) for s in (0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's median of nothing warns "Mean of empty slice"
        [row] = rt.time_to_accuracy(runs, {"mlp": 0.9}).to_dict("records")
    assert row["seeds reaching it"] == "0 of 2"
    assert np.isnan(row["training seconds to reach it (median)"])
    assert np.isnan(row["epoch reached (median)"])


def test_time_to_accuracy_reads_the_epochs_in_order_whatever_the_rows_order():
    runs = history([1.0, 2.0, 4.0], [0.95, 0.9, 0.5]).iloc[::-1]  # epochs 3, 2, 1
    row = rt.time_to_accuracy(runs, {"mlp": 0.9}).iloc[0]
    assert row["training seconds to reach it (median)"] == 1.0
    assert row["epoch reached (median)"] == 1


def provenance(rows):
    base = {"dataset": "mnist", "variant": "mlp", "device": "cpu"}
    return pd.DataFrame(
        [
            {**base, "backend": b, "seed": s, "item": i, "value": v, **extra}
            for b, s, i, v, extra in rows
        ]
    )


def test_provenance_shows_shared_values_once_and_splits_them_by_kind():
    rows = []
    for backend, version in (("numpy", "2.1"), ("torch", "2.13")):
        for seed in (0, 1):
            rows += [
                (backend, seed, "commit", "abc123", {}),
                (backend, seed, "uncommitted changes", "no", {}),
                (backend, seed, "CPU model", "EPYC", {}),
                (backend, seed, "CPU cores", "2", {}),
                (backend, seed, "pandas", "2.2", {}),
                (backend, seed, "framework", version, {}),
                (backend, seed, "data train-images", "f00d", {}),
            ]
    rows.append(("numpy", 0, "data train-images", "beef", {"dataset": "fashion"}))
    found = rt.provenance_tables(provenance(rows))
    assert found["code"].values.tolist() == [["commit", "abc123"], ["uncommitted changes", "no"]]
    machines = found["machines"]
    assert list(machines.columns) == ["device", *rt.MACHINE_ITEMS]
    assert machines.loc[0, "device"] == "cpu" and machines.loc[0, "CPU model"] == "EPYC"
    assert machines.loc[0, "CPU cores"] == "2" and pd.isna(machines.loc[0, "GPU"])
    assert machines.columns.name is None
    # a framework's version may differ by backend: both shown, neither "differs"; items in the
    # order the runs recorded them
    assert found["libraries"].values.tolist() == [
        ["pandas", "2.2"],
        ["backend framework", "2.1"],
        ["backend framework", "2.13"],
    ]
    assert list(found["data"].columns) == ["dataset", "file", "SHA-256 of the IDX file read"]
    data = found["data"].sort_values("dataset")
    assert data.values.tolist() == [
        ["fashion", "train-images", "beef"],
        ["mnist", "train-images", "f00d"],
    ]
    assert list(found["differs"].columns) == ["dataset", "variant", "backend", "point", "seed"]
    assert found["differs"].empty


def test_a_backends_own_kernels_say_whose_runs_they_are():
    blas = f"{KERNELS}BLAS from numpy"
    rows = [
        ("numpy", 0, blas, "OpenBLAS 0.3.27, 1 thread", {}),
        ("torch", 0, blas, "MKL 2024.2, 1 thread", {}),
        ("torch", 0, "pandas", "2.2", {}),
    ]
    libraries = rt.provenance_tables(provenance(rows))["libraries"]
    assert libraries.values.tolist() == [
        [f"{blas} (numpy runs)", "OpenBLAS 0.3.27, 1 thread"],
        [f"{blas} (torch runs)", "MKL 2024.2, 1 thread"],
        ["pandas", "2.2"],
    ]


def test_provenance_lists_each_run_where_a_shared_value_differs():
    rows = [
        ("numpy", 0, "pandas", "2.2", {}),
        ("numpy", 1, "pandas", "2.3", {}),
        ("torch", 0, "pandas", "2.2", {}),
        ("numpy", 0, "CPU model", "EPYC", {}),
        ("numpy", 1, "CPU model", "Xeon", {}),
        ("torch", 0, "CPU model", "Xeon", {}),
    ]
    found = rt.provenance_tables(provenance(rows))
    assert found["libraries"].values.tolist() == [["pandas", rt.DIFFERS]]
    assert found["machines"].loc[0, "CPU model"] == rt.DIFFERS
    differs = found["differs"]
    assert differs.columns.name is None
    assert differs.values.tolist() == [
        ["mnist", "mlp", "numpy", "default", 0, "EPYC", "2.2"],
        ["mnist", "mlp", "numpy", "default", 1, "Xeon", "2.3"],
        ["mnist", "mlp", "torch", "default", 0, "Xeon", "2.2"],
    ]
    assert list(differs.columns)[5:] == ["CPU model", "pandas"]


def test_a_machine_value_may_differ_between_devices_and_data_between_datasets():
    rows = [
        ("numpy", 0, "CPU model", "EPYC", {}),
        ("torch", 0, "CPU model", "Xeon", {"device": "cuda"}),
        ("numpy", 0, "data t10k-labels", "aa", {}),
        ("numpy", 0, "data t10k-labels", "bb", {"dataset": "fashion"}),
    ]
    found = rt.provenance_tables(provenance(rows))
    assert found["machines"].set_index("device")["CPU model"].to_dict() == {
        "cpu": "EPYC",
        "cuda": "Xeon",
    }
    assert found["differs"].empty
    assert found["data"]["file"].tolist() == ["t10k-labels", "t10k-labels"]


def test_the_speed_tables_memory_is_the_runs_own_and_blank_for_runs_recorded_before_it():
    assert rt.speed_table(SUMMARY, "numpy").set_index("backend").loc["numpy", rt.MEMORY] == 100.0
    older = rt.speed_table(SUMMARY.drop(columns="train_memory_mb"), "numpy")
    assert older[rt.MEMORY].isna().all()  # not the process's peak under the run's name
