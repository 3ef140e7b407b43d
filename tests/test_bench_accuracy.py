"""bench/accuracy.py: the seed's recipe beside the defaults; each run labelled by what it used."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from mnistbench.variants import VARIANTS

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "accuracy.py"


@pytest.fixture(scope="module")
def accuracy():
    spec = importlib.util.spec_from_file_location("bench_accuracy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_seeds_recipe_runs_only_for_variants_that_depart_from_it(accuracy):
    runs = accuracy.runs_of(["mlp", "mnn"], ["numpy"], [0, 1], seed_recipes=True)
    assert runs == [
        ("mlp", "default", "numpy", 0),
        ("mlp", "default", "numpy", 1),
        ("mnn", "default", "numpy", 0),
        ("mnn", "default", "numpy", 1),
        ("mnn", "seed", "numpy", 0),
        ("mnn", "seed", "numpy", 1),
    ]
    assert {r[1] for r in accuracy.runs_of(["mnn"], ["numpy"], [0], False)} == {"default"}


def test_a_run_is_labelled_by_the_hyperparameters_it_recorded(accuracy):
    mnn = VARIANTS["mnn"]
    defaults = json.dumps(mnn.hyperparameters())
    seeds = json.dumps(mnn.hyperparameters(mnn.seed_recipe))
    assert accuracy.recipe_of("mnn", defaults) == "default"
    assert accuracy.recipe_of("mnn", seeds) == "seed"
    assert accuracy.recipe_of("mlp", json.dumps(VARIANTS["mlp"].hyperparameters())) == "default"
