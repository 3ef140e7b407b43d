"""``variants: all``: every installed variant, as ``backends: all`` is every installed backend.

The variant plugins here are real distributions (a ``.dist-info`` with an entry point in the
``mnistbench.variants`` group, and its module) in a folder put on ``sys.path``; the registry is
read again from the entry points for each case.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plan.experiment import plan
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.variant_registry import installed_variants
from tests.conftest import CONFIG
from tests.distributions import install_distribution

BROKEN = "raise ImportError('needs a library that is not installed')\n"
# A second LeNet under another name: the lenet plugin's variant, its steps and all.
LENET_TWIN = """
    import dataclasses
    from mnistbench_lenet.variant import VARIANT as LENET

    VARIANT = dataclasses.replace(LENET, name="lenet_twin")
"""


def write_variant_distribution(site: Path, name: str, variant: str, source: str) -> None:
    """Install a one-module distribution declaring ``variant`` by hand into ``site``."""
    entry_point = f"{variant} = {name}:VARIANT"
    install_distribution(site, name, entry_point, {name: source}, "mnistbench.variants")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on ``sys.path`` for variant distributions; the registry re-read around each use."""
    monkeypatch.syspath_prepend(str(tmp_path))
    installed_variants.cache_clear()
    yield tmp_path
    installed_variants.cache_clear()


def config_with(**changes):
    return {**copy.deepcopy(CONFIG), **changes}


def planned_variants(experiment) -> set[str]:
    return {run.variant for run in experiment.runs}


def test_all_plans_every_installed_variant_on_every_backend_that_implements_it():
    experiment = plan(config_with(variants="all"))
    assert planned_variants(experiment) == set(installed_variants().variants)
    assert "lenet" in planned_variants(experiment)
    lenet_backends = {run.backend for run in experiment.runs if run.variant == "lenet"}
    assert lenet_backends == set(load_backends().available())


def test_a_variant_installed_later_joins_all_with_no_edit_to_the_config(site):
    write_variant_distribution(site, "mnistbench_lenet_twin", "lenet_twin", LENET_TWIN)
    installed_variants.cache_clear()
    assert "lenet_twin" in planned_variants(plan(config_with(variants="all")))


def test_a_variant_plugin_that_fails_to_load_is_one_note_and_the_others_are_planned(site):
    write_variant_distribution(site, "mnistbench_broken_variant", "broken", BROKEN)
    installed_variants.cache_clear()
    experiment = plan(config_with(variants="all"))
    notes = [note for note in experiment.skipped if "broken" in note]
    assert notes == [
        "variant plugin 'broken' failed to load: ImportError: needs a library that is not installed"
    ]
    assert {"mlp", "lenet"} <= planned_variants(experiment)


def test_naming_a_variant_whose_plugin_failed_is_an_error_with_its_reason(site):
    write_variant_distribution(site, "mnistbench_broken_variant", "broken", BROKEN)
    installed_variants.cache_clear()
    with pytest.raises(MnistbenchError, match=r"^variant 'broken' failed to load: ImportError"):
        plan(config_with(variants=["mlp", "broken"]))


@pytest.mark.parametrize("variants", ["all", ["mlp"]])
def test_hyperparameters_of_a_variant_not_installed_are_left_out_with_a_note(variants):
    config = config_with(variants=variants, hyperparameters={"resnet": {"lr": 0.1}})
    experiment = plan(config)
    assert "resnet" not in experiment.hyperparameters
    [note] = [note for note in experiment.skipped if "resnet" in note]
    assert note.startswith(
        "hyperparameters for variant 'resnet' left out: it is not installed (installed: "
    )
    assert "mlp" in note.partition("installed: ")[2]


def test_a_listed_variant_that_is_not_installed_is_an_error():
    with pytest.raises(MnistbenchError, match=r"^unknown variant 'resnet' \(known: "):
        plan(config_with(variants=["mlp", "resnet"], hyperparameters={"resnet": {"lr": 0.1}}))
