"""The conformance suite explains its failures: run on a deliberately wrong backend (the docs'
backend with a bug planted), each failed test names what it compared, the largest difference,
where it is and both values, and the suite's own asserts show their values."""

from __future__ import annotations

import dataclasses
import re

import pytest

from mnistbench.plugin.comparisons import assert_close
from tests.plugin.test_docs_backend import example_files, install, run_suite

# W1 moves 10% too far at every step: the first step and the whole trajectory are off.
BUG = ("        w[name] -= lr * g\n", '        w[name] -= lr * g * (1.1 if name == "W1" else 1)\n')


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory) -> str:
    """The output of pytest running the suite on the wrong backend (mlp only)."""
    files = example_files()
    init = "mnistbench_mybackend/__init__.py"
    assert BUG[0] in files[init]
    files[init] = files[init].replace(*BUG)
    result = run_suite(*install(files, tmp_path_factory.mktemp("wrong-backend")))
    assert result.returncode == 1, result.stdout[-3000:]
    return result.stdout


@pytest.mark.slow
def test_a_wrong_first_step_names_the_weight_the_largest_difference_and_its_position(failing_run):
    lines = [line for line in failing_run.splitlines() if "first step's move of" in line]
    assert lines, failing_run[-3000:]
    pattern = (
        r"first step's move of W1: largest difference [\d.e-]+ at \(\d+, \d+\): "
        r"[-\d.e]+ against [-\d.e]+ \(allowed [\d.e-]+; \d+ of \d+ elements outside"
    )
    assert any(re.search(pattern, line) for line in lines), lines


@pytest.mark.slow
def test_a_wrong_trajectory_names_the_step_and_both_losses(failing_run):
    pattern = r"step losses against numpy's: largest difference [\d.e-]+ at \[\d+\]: "
    assert re.search(pattern, failing_run), failing_run[-3000:]


def test_an_element_outside_its_tolerance_is_named_by_position_and_values():
    with pytest.raises(AssertionError) as error:
        assert_close("move of W", [[0.0, 1.0], [2.0, 3.5]], [[0.0, 1.0], [2.0, 3.0]], atol=0.1)
    assert str(error.value) == (
        "move of W: largest difference 0.5 at (1, 1): 3.5 against 3 (allowed 0.1; "
        "1 of 4 elements outside rtol=0, atol=0.1)"
    )


def test_a_shape_mismatch_is_named_before_any_value():
    with pytest.raises(AssertionError, match=r"^losses: shape \(3,\), expected \(4,\)$"):
        assert_close("losses", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])


def test_pytest_rewrites_the_suites_own_asserts():
    import mnistbench.plugin.testing as backend_suite
    import mnistbench.plugin.variant_conformance as variant_suite

    for suite in (backend_suite, variant_suite):
        assert type(suite.__loader__).__name__ == "AssertionRewritingHook", suite.__name__


def test_a_variant_whose_contract_misses_a_hyperparameter_is_told_which():
    from mnistbench.plugin import VariantConformance
    from mnistbench.variants import get_variant

    mlp = get_variant("mlp")
    explained = {k: v for k, v in mlp.contract.hyperparameters.items() if k != "lr"}
    contract = dataclasses.replace(mlp.contract, hyperparameters=explained)
    with pytest.raises(AssertionError) as error:
        VariantConformance().test_the_contract_is_complete(
            dataclasses.replace(mlp, contract=contract)
        )
    assert str(error.value) == (
        "the contract explains ['batch_size', 'epochs', 'hidden']; the defaults are "
        "['batch_size', 'epochs', 'hidden', 'lr']"
    )
