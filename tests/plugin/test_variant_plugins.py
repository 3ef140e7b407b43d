"""Variant discovery through the ``mnistbench.variants`` entry-point group: the built-ins arrive
that way, and a broken, odd or duplicate plugin is named while the others load."""

from __future__ import annotations

import dataclasses
import json
from importlib.metadata import EntryPoint

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plugin.variant_registry import collect_variants, installed_variants
from mnistbench.variants import get_variant, mlp
from tests.cli import run_cli

GROUP = "mnistbench.variants"
ODD = dataclasses.replace(mlp.VARIANT, name="../escape")
NOT_A_VARIANT = object()


def entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name, value, GROUP)


def test_the_five_built_ins_arrive_through_the_entry_point_group():
    found = installed_variants()
    built_in = {"mlp", "sigmoid_mlp", "dropout_mlp", "mnn", "predictive_coding"}
    assert built_in <= set(found.variants)
    assert {found.distributions[name].split()[0] for name in built_in} == {"mnistbench"}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("tests.unit.no_such_module:VARIANT", "ModuleNotFoundError: No module named"),
        (f"{__name__}:NOT_A_VARIANT", "is not a mnistbench Variant"),
        (f"{__name__}:ODD", "variant name '../escape' cannot name a results folder"),
        ("mnistbench.variants.mnn:VARIANT", "entry point 'broken' names variant 'mnn'"),
    ],
)
def test_a_bad_variant_plugin_is_named_and_the_others_load(value, error):
    found = collect_variants(
        [entry("broken", value), entry("mlp", "mnistbench.variants.mlp:VARIANT")]
    )
    assert list(found.variants) == ["mlp"]
    [failure] = found.failures
    assert failure.plugin == "broken" and error in failure.error


def test_a_taken_variant_name_is_refused():
    twice = [entry("mlp", "mnistbench.variants.mlp:VARIANT")] * 2
    [failure] = collect_variants(twice).failures
    assert failure.error == "variant name 'mlp' is taken"


def test_an_unknown_variant_is_one_line_listing_the_known_ones():
    with pytest.raises(MnistbenchError, match=r"^unknown variant 'cnn' \(known: .*mlp"):
        get_variant("cnn")


def test_variants_json_lists_distribution_and_implementing_backends():
    result = run_cli("variants", "--json")
    assert result.returncode == 0, result.stderr
    listed = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert listed["mlp"]["distribution"] == "mnistbench"
    assert {"numpy", "torch", "jax"} <= set(listed["mlp"]["backends"])
    assert listed["mlp"]["input_layout"] == "flat"


def test_variants_json_says_in_one_line_where_an_update_is_no_gradient():
    result = run_cli("variants", "--json")
    listed = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert listed["mlp"]["not_a_gradient"] is None
    reason = listed["predictive_coding"]["not_a_gradient"]
    assert "not the gradient of one loss" in reason and "\n" not in reason
