"""The report's tables from small summaries whose every number is known: per-run derived times,
the recipe departures, accuracy over seeds and speed as ratios of medians."""

import json

import numpy as np
import pandas as pd
import pytest

from mnistbench import report_tables as tables
from mnistbench.variants import VARIANTS


def run(backend="numpy", seed=0, variant="mlp", dataset="mnist", **values):
    row = {
        "dataset": dataset,
        "variant": variant,
        "backend": backend,
        "device": "cpu",
        "seed": seed,
        "test_accuracy": 0.9,
        "final_train_loss": 0.3,
        "epochs": 4,
        "train_samples": 60000,
        "test_samples": 10000,
        "train_seconds": 8.0,
        "samples_per_second": 30000.0,
        "predict_seconds": 0.05,
        "peak_rss_mb": 100.0,
        "job_wall_seconds": 10.0,
        "backend_version": "1",
        "hyperparameters": json.dumps(VARIANTS[variant].defaults) if variant in VARIANTS else "",
        "train_limit": None,
        "test_limit": None,
    }
    row.update(values)
    return row


def test_each_run_shows_seconds_per_epoch_and_microseconds_per_test_image():
    derived = tables.with_derived(pd.DataFrame([run(train_seconds=8.0, epochs=4)]))
    assert derived["epoch_seconds"].iloc[0] == 2.0
    assert derived["predict_us"].iloc[0] == pytest.approx(5.0)  # 0.05 s / 10,000 images
    runs = tables.runs_table(pd.DataFrame([run()]))
    assert list(runs.columns) == list(tables.RUN_COLUMNS.values())
    assert runs[tables.PREDICT_US].iloc[0] == pytest.approx(5.0)
    assert runs["train time (s, inside backend.train, all epochs)"].iloc[0] == 8.0


def test_a_run_on_the_seed_recipe_departs_from_nothing():
    assert tables.recipe_departures(run()) == ""


def test_departures_name_each_changed_hyperparameter_with_the_seeds_value_and_the_subsets():
    hp = {**VARIANTS["mlp"].defaults, "lr": 0.05, "epochs": 1}
    row = run(hyperparameters=json.dumps(hp), train_limit=4000.0, test_limit=1000.0)
    assert tables.recipe_departures(row) == (
        "epochs 1 (seed 20); lr 0.05 (seed 0.1); first 4,000 train images only; "
        "first 1,000 test images only"
    )


def test_a_variant_with_its_own_network_says_so_unless_a_seed_recipe_restores_it():
    pc = run(variant="predictive_coding")
    assert tables.recipe_departures(pc) == "another network (see Variants)"
    mnn = run(variant="mnn")  # its defaults depart from the seed's init scale, which is restorable
    assert tables.recipe_departures(mnn) == "init_scale 0.1 (seed 1)"


def test_an_unknown_variant_or_missing_hyperparameters_note_only_the_subsets():
    row = {"variant": "third_party", "train_limit": 500}
    assert tables.recipe_departures(row) == "first 500 train images only"


def test_accuracy_is_grouped_per_backend_with_the_seeds_figure_on_mnist_only():
    two_epochs = json.dumps({**VARIANTS["mlp"].defaults, "epochs": 2})
    quick = {"epochs": 2, "train_limit": 4000.0, "hyperparameters": two_epochs}
    summary = pd.DataFrame(
        [
            run("numpy", 0, test_accuracy=0.90, **quick),
            run("numpy", 1, test_accuracy=0.94, **quick),
            run("torch", 0, test_accuracy=0.80, epochs=3),
            run("numpy", 0, dataset="fashion", test_accuracy=0.7),
        ]
    )
    table = tables.accuracy_table(summary).set_index(["dataset", "backend"])
    numpy = table.loc[("mnist", "numpy")]
    assert numpy["seeds"] == 2
    assert numpy["test accuracy (fraction, mean over seeds)"] == pytest.approx(0.92)
    assert numpy["sd over seeds"] == pytest.approx(np.std([0.90, 0.94], ddof=1))
    assert numpy["epochs"] == 2 and numpy["training images"] == 60000
    assert numpy["seed notebook's test accuracy (its full recipe)"] == 0.9829
    assert (
        numpy["departs from the seed's recipe"]
        == "epochs 2 (seed 20); first 4,000 train images only"
    )
    torch = table.loc[("mnist", "torch")]
    assert torch["seeds"] == 1 and np.isnan(torch["sd over seeds"])
    assert torch["departs from the seed's recipe"] == "" and torch["epochs"] == 3
    assert np.isnan(
        table.loc[("fashion", "numpy")]["seed notebook's test accuracy (its full recipe)"]
    )
    assert list(tables.accuracy_table(summary).columns[:4]) == tables.GROUP_KEYS


def test_speed_is_the_baselines_median_over_each_backends_median():
    summary = pd.DataFrame(
        [
            run("numpy", 0, train_seconds=4.0, predict_seconds=0.04, peak_rss_mb=100.0),
            run("numpy", 1, train_seconds=8.0, predict_seconds=0.08, peak_rss_mb=120.0),
            run("numpy", 2, train_seconds=12.0, predict_seconds=0.06, peak_rss_mb=110.0),
            run("torch", 0, train_seconds=2.0, predict_seconds=0.01, samples_per_second=1.0),
            run("torch", 1, train_seconds=6.0, predict_seconds=0.03, samples_per_second=3.0),
        ]
    )
    speed = tables.speed_table(summary, "numpy").set_index("backend")
    assert speed.loc["numpy", "train s/epoch, min over seeds"] == 1.0
    assert speed.loc["numpy", "train s/epoch, median"] == 2.0
    assert speed.loc["numpy", "train s/epoch, max"] == 3.0
    assert speed.loc["numpy", tables.SPEEDUP.format("numpy")] == 1.0
    assert speed.loc["torch", "train s/epoch, median"] == 1.0
    assert speed.loc["torch", tables.SPEEDUP.format("numpy")] == 2.0
    assert speed.loc["torch", "training throughput (images/s, median)"] == 2.0
    assert speed.loc["numpy", "predict (µs per test image, median)"] == pytest.approx(6.0)
    assert speed.loc["torch", "predict speed-up over numpy (×, ratio of medians)"] == pytest.approx(
        3.0
    )
    assert speed.loc["numpy", "train peak memory (MiB, resident, max)"] == 120.0
    assert speed.loc["numpy", "seeds"] == 3 and speed.loc["torch", "seeds"] == 2
    per_run = tables.speedups(summary, "numpy").set_index(["backend", "seed"])
    assert per_run.loc[("torch", 0), "train_speedup"] == 4.0  # 2.0 s over 0.5 s per epoch
    assert per_run.loc[("torch", 1), "predict_speedup"] == pytest.approx(2.0)


def test_without_the_baseline_backend_the_speed_ups_are_blank():
    speed = tables.speed_table(pd.DataFrame([run("torch")]), "numpy")
    assert np.isnan(speed[tables.SPEEDUP.format("numpy")].iloc[0])
