"""The benchmark scripts' own logic: bench/accuracy.py runs the seed's recipe beside the defaults
and labels each run by what it used; bench/mnn_init_scale.py counts images with all-zero logits."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.training import weights_file
from mnistbench.variants import VARIANTS, mnn
from tests.conftest import REPO

BENCH = REPO / "bench"


def load_script(name: str, monkeypatch):
    """Import bench/<name>.py as its command line would, with bench/ first on sys.path."""
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def accuracy(monkeypatch):
    return load_script("accuracy", monkeypatch)


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
    variant = VARIANTS["mnn"]
    defaults = json.dumps(variant.hyperparameters())
    seeds_own = json.dumps(variant.hyperparameters(variant.seed_recipe))
    assert accuracy.recipe_of("mnn", defaults) == "default"
    assert accuracy.recipe_of("mnn", seeds_own) == "seed"
    assert accuracy.recipe_of("mnn", "{}") == "default"  # metrics from before hyperparameters
    assert accuracy.recipe_of("mlp", json.dumps(VARIANTS["mlp"].hyperparameters())) == "default"


def test_init_scale_bench_counts_images_whose_logits_are_all_zero(
    monkeypatch, tmp_path, sample_dir
):
    init_scale = load_script("mnn_init_scale", monkeypatch)
    hp = mnn.VARIANT.hyperparameters()
    n = mnn.n_neurons(hp)
    images = datasets.load(sample_dir, train_limit=1, test_limit=50).test_images
    A = np.zeros((n, n), np.float32)  # every logit zero for every image
    weights_file.save(tmp_path, "weights.npz", {"A": A})
    assert init_scale.dead_share(tmp_path, hp, images) == 1.0
    A[mnn.layout(hp).bias, n - 1] = 1  # the bias neuron lifts the last logit to 1 for every image
    weights_file.save(tmp_path, "weights.npz", {"A": A})
    assert init_scale.dead_share(tmp_path, hp, images) == 0.0
