"""What every variant declares about the source notebook it comes from, and where that shows."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from mnistbench.plugin import contract
from mnistbench.report import tables
from mnistbench.variants import VARIANTS
from tests.conftest import REPO

DEPARTING = [v for v in VARIANTS.values() if v.seed_recipe]


@pytest.mark.parametrize("variant", DEPARTING, ids=lambda v: v.name)
def test_a_seed_recipe_changes_known_defaults_and_the_departure_says_why(variant):
    recipe = variant.hyperparameters(variant.seed_recipe)  # refuses unknown keys
    assert all(variant.defaults[k] != v for k, v in variant.seed_recipe.items())
    assert recipe != variant.hyperparameters()
    assert variant.departure and all(k in variant.departure for k in variant.seed_recipe)


def test_the_seed_recipe_checks_above_cover_mnn():
    # mnn's init scale is a hyperparameter departure; predictive_coding's (another network) is not
    assert "mnn" in [v.name for v in DEPARTING]
    assert VARIANTS["predictive_coding"].departure and not VARIANTS["predictive_coding"].seed_recipe


def test_the_report_puts_departures_beside_the_seeds_figure():
    mnn = json.dumps(VARIANTS["mnn"].hyperparameters())  # the default init_scale departs
    mlp = json.dumps(VARIANTS["mlp"].hyperparameters({"epochs": 1}))
    summary = pd.DataFrame(
        {
            "dataset": "mnist",
            "variant": ["mnn", "mlp"],
            "backend": "numpy",
            "device": "cpu",
            "seed": 0,
            "test_accuracy": [0.97, 0.98],
            "epochs": [100, 1],
            "train_samples": [60000, 4000],
            "test_samples": 10000,
            "train_limit": [None, 4000],
            "hyperparameters": [mnn, mlp],
        }
    )
    table = tables.accuracy_table(summary).set_index("variant")
    assert table.loc["mnn", "source notebook's test accuracy (its full recipe)"] == 0.9414
    assert (
        table.loc["mnn", "departs from the source notebook's recipe"]
        == "init_scale 0.1 (source notebook: 1)"
    )
    assert table.loc["mlp", "departs from the source notebook's recipe"] == (
        "epochs 1 (source notebook: 20); first 4,000 train images only"
    )
    assert table.loc["mlp", "epochs"] == 1 and table.loc["mlp", "training images"] == 4000


def test_config_yaml_shows_each_built_in_variants_defaults_exactly():
    """config/config.yaml shows the defaults for users to edit; the variants declare them."""
    shown = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["hyperparameters"]
    built_in = contract.shipped_with("mnistbench")
    assert sorted(shown) == sorted(built_in)
    for name, variant in built_in.items():
        assert shown[name] == dict(variant.defaults), name
