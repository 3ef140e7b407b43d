"""The variants' contract: generated from the code, complete, and what docs/variants.md says."""

from __future__ import annotations

import pytest

from mnistbench.plugin import contract
from mnistbench.variants import VARIANTS
from tests.cli import run_cli
from tests.conftest import REPO


def test_docs_variants_md_is_what_the_code_generates():
    # Regenerate with: python -m mnistbench variants --distribution mnistbench > docs/variants.md
    core = contract.document(contract.shipped_with("mnistbench"))
    assert (REPO / "docs" / "variants.md").read_text() == core


def test_the_variants_command_prints_the_contract():
    result = run_cli("variants")
    assert result.returncode == 0
    assert result.stdout == contract.document()


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_hyperparameter_has_a_meaning(name):
    variant = VARIANTS[name]
    assert set(variant.contract.hyperparameters) == set(variant.defaults)
    assert all(variant.contract.hyperparameters.values())


def test_a_dimension_set_by_a_hyperparameter_is_named_after_it():
    shapes = contract.weight_shapes(VARIANTS["mlp"])
    assert shapes == {
        "W1": "(pixels=784, hidden=300) float32",
        "b1": "(hidden=300) float32",
        "W2": "(hidden=300, classes=10) float32",
        "b2": "(classes=10) float32",
    }
    assert contract.weight_shapes(VARIANTS["mnn"]) == {
        "A": "(1 + pixels + hidden + classes=895, 1 + pixels + hidden + classes=895) float32"
    }


def test_the_core_made_extras_are_described_with_their_shape_and_values():
    [(name, text)] = contract.extras(VARIANTS["dropout_mlp"]).items()
    keep = VARIANTS["dropout_mlp"].hyperparameters(VARIANTS["dropout_mlp"].small)["keep"]
    assert name == "dropout_masks"
    assert text.startswith("(train_samples=12, hidden=40) float32")
    assert text.endswith(f"values 0, {1 / keep:g}")
