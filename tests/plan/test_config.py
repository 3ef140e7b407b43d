"""Config overrides as users type them: Snakemake's own ``--config`` parser, then ours."""

from __future__ import annotations

import copy
import re

import pytest
from snakemake.cli import parse_config
from snakemake.utils import update_config

from mnistbench.errors import MnistbenchError
from mnistbench.plan import config as mnistbench_config
from tests.conftest import CONFIG, REPO

SCHEMA = mnistbench_config.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")


def overridden(*entries: str) -> dict:
    """config/config.yaml with ``--config`` entries applied as Snakemake applies them."""
    config = copy.deepcopy(CONFIG)
    update_config(config, parse_config(list(entries)))
    return mnistbench_config.check(config, SCHEMA)


@pytest.mark.parametrize(
    ("entry", "key", "expected"),
    [
        ("seeds=[0,1]", "seeds", [0, 1]),
        ("seeds=0", "seeds", [0]),
        ("seeds=[3]", "seeds", [3]),
        ("backends=numpy", "backends", ["numpy"]),
        ("backends=[numpy,torch]", "backends", ["numpy", "torch"]),
        ("backends=all", "backends", "all"),
        ("variants=mlp", "variants", ["mlp"]),
        ("variants=[mlp, mnn]", "variants", ["mlp", "mnn"]),
        ("datasets=mnist", "datasets", ["mnist"]),
        ("threads=2", "threads", 2),
        ("curve_points=10", "curve_points", 10),
        ("devices={torch: cpu}", "devices", {"torch": "cpu"}),
        ("subset={train: 4000, test: null}", "subset", {"train": 4000, "test": None}),
    ],
)
def test_an_override_becomes_what_its_key_needs(entry, key, expected):
    assert overridden(entry)[key] == expected


def test_a_hyperparameter_override_keeps_the_variants_other_values():
    hyperparameters = overridden("hyperparameters={mlp: {epochs: 2, lr: 0.05}}")["hyperparameters"]
    assert hyperparameters["mlp"] == {**CONFIG["hyperparameters"]["mlp"], "epochs": 2, "lr": 0.05}
    assert isinstance(hyperparameters["mlp"]["epochs"], int)
    assert hyperparameters["mnn"] == CONFIG["hyperparameters"]["mnn"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("seeds=[a]", "config: seeds[0]: got 'a', which is not an integer; expected a list of "),
        ("seeds=0,1", "config: seeds[0]: got '0,1', which is not an integer"),
        ("seeds=[-1]", "config: seeds[0]: got -1, it is less than the minimum of 0"),
        ("threads=0", "config: threads: got 0, it is less than the minimum of 1"),
        ("threads=two", "config: threads: got 'two', which is not an integer"),
        ("curve_points=0", "config: curve_points: got 0, it is less than the minimum of 1"),
        ("curve_points=2.5", "config: curve_points: got 2.5, which is not an integer"),
        ("curve_points=[5]", "config: curve_points: got ['5'], which is not an integer"),
        ("backends=[numpy,numpy]", "config: backends: got [numpy, numpy], it has non-unique"),
        ("devices={torch: gpu}", "config: devices.torch: got 'gpu', it is not one of"),
        ("subset={train: x}", "config: subset.train: got 'x', which is not an integer or null"),
        ("hyperparameters={mlp: {epochs: two}}", "config: hyperparameters.mlp.epochs: got 'two'"),
        ("variants=[]", "config: variants: got [], it should be non-empty"),
        ("seed=[0]", "config: unknown key 'seed' (known: backends, curve_points, dataset_"),
    ],
)
def test_a_value_that_cannot_be_what_its_key_needs_is_one_line(entry, message):
    with pytest.raises(MnistbenchError) as error:
        overridden(entry)
    text = str(error.value)
    assert text.startswith(message)
    assert "\n" not in text


def test_the_error_line_shows_how_to_type_the_key():
    with pytest.raises(MnistbenchError) as error:
        overridden("seeds=[a]")
    assert str(error.value).endswith("e.g. seeds=[0, 1, 2]")


def test_every_top_level_key_has_a_description_and_an_example_that_validates():
    for key, schema in SCHEMA["properties"].items():
        assert schema.get("description"), key
        for example in schema.get("examples", []):
            config = copy.deepcopy(CONFIG)
            config[key] = example
            mnistbench_config.check(config, SCHEMA)


def test_the_shipped_configs_pass_unchanged():
    assert mnistbench_config.check(copy.deepcopy(CONFIG), SCHEMA) == CONFIG


def documented_overrides() -> list[list[str]]:
    """Every ``--config`` example in the README, the docs pages and config/config.yaml's
    comments."""
    found = []
    for path in [
        REPO / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
        REPO / "config" / "config.yaml",
    ]:
        for line in path.read_text().splitlines():
            if "snakemake" in line and re.search(r"--config\s", line):
                args = re.split(r"--config\s", line, maxsplit=1)[1].split("#")[0]
                found.append(re.findall(r"'([^']+)'|(\S+=\S+)", args))
    return [[a or b for a, b in entries] for entries in found]


def test_the_documented_overrides_are_found():
    assert len(documented_overrides()) >= 3


@pytest.mark.parametrize("entries", documented_overrides(), ids=" ".join)
def test_a_documented_override_passes(entries):
    overridden(*entries)


@pytest.mark.parametrize(
    ("entry", "key", "value"),
    [
        ("hyperparameters={mlp: {lr: 1e400}}", "hyperparameters.mlp.lr", "inf"),
        ("hyperparameters={mlp: {lr: -1e400}}", "hyperparameters.mlp.lr", "-inf"),
        ("hyperparameters={mlp: {lr: nan}}", "hyperparameters.mlp.lr", "nan"),
        ("sweeps={mlp: {lr: [0.1, inf]}}", "sweeps.mlp.lr[1]", "inf"),
        ("report={time_to_accuracy: {mlp: nan}}", "report.time_to_accuracy.mlp", "nan"),
    ],
)
def test_a_number_that_is_not_finite_is_refused_naming_its_key(entry, key, value):
    with pytest.raises(MnistbenchError) as error:
        overridden(entry)
    assert str(error.value) == f"config: {key}: {value} is not a finite number"
