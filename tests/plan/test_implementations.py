"""The implementation axis: ``implementations: {torch: [tuned, autograd, compiled]}`` as planned
runs, typed as users type it (mnistbench.plan.implementations)."""

from __future__ import annotations

import copy

import pytest
from snakemake.cli import parse_config
from snakemake.utils import update_config

from mnistbench.errors import MnistbenchError
from mnistbench.plan import config as mnistbench_config
from mnistbench.plan.experiment import Run, plan
from tests.conftest import CONFIG, REPO

SCHEMA = mnistbench_config.load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")


def planned(*entries: str, keep_implementations: bool = False):
    """The experiment of config/config.yaml with ``--config`` entries, as Snakemake hands them;
    its own ``implementations`` left out unless kept."""
    config = copy.deepcopy(CONFIG)
    if not keep_implementations:
        del config["implementations"]
    update_config(config, parse_config(["seeds=0", *entries]))
    return plan(mnistbench_config.check(config, SCHEMA))


def folders(experiment, variant: str, backend: str) -> list[str]:
    return [r.point for r in experiment.runs if (r.variant, r.backend) == (variant, backend)]


def test_a_list_sweeps_the_implementations_and_the_default_keeps_its_folder():
    experiment = planned("backends=torch", "implementations={torch: [tuned, autograd, compiled]}")
    assert folders(experiment, "mlp", "torch") == [
        "default",
        "implementation=autograd",
        "implementation=compiled",
    ]
    assert experiment.points["implementation=autograd"] == {"implementation": "autograd"}


def test_without_the_key_the_runs_are_those_of_before_implementations():
    with_key = planned("backends=[numpy, torch]", "implementations={torch: tuned, numpy: tuned}")
    without = planned("backends=[numpy, torch]")
    assert with_key.runs == without.runs
    assert {r.point for r in without.runs} == {"default"}


def test_one_value_names_every_run_of_the_backend():
    experiment = planned(
        "backends=[numpy, torch]", "variants=mlp", "implementations={torch: autograd}"
    )
    assert Run("mnist", "mlp", "torch", "implementation=autograd", 0) in experiment.runs
    assert Run("mnist", "mlp", "numpy", "default", 0) in experiment.runs


def test_jax_names_its_steps_autograd_and_that_is_its_default_folder():
    experiment = planned("backends=jax", "variants=mlp", "implementations={jax: autograd}")
    assert [r.point for r in experiment.runs] == ["default"]


def test_a_variant_without_the_implementation_is_planned_out_in_one_line():
    experiment = planned(
        "backends=torch",
        "variants=[mlp, predictive_coding]",
        "implementations={torch: [tuned, autograd, compiled]}",
    )
    assert folders(experiment, "predictive_coding", "torch") == ["default"]
    assert (
        "backend 'torch' has no 'autograd' or 'compiled' implementation of variant "
        "'predictive_coding' (it has: tuned)" in experiment.skipped
    )


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            ["backends=numpy", "implementations={numpy: autograd}"],
            "config: implementations.numpy: backend 'numpy' has no implementation 'autograd' "
            "(it offers: tuned)",
        ),
        (  # in a per-variant mapping too
            ["backends=torch", "implementations={torch: {mlp: [tuned, jit]}}"],
            "config: implementations.torch: backend 'torch' has no implementation 'jit' "
            "(it offers: tuned, autograd, compiled)",
        ),
    ],
)
def test_an_implementation_the_backend_does_not_offer_is_one_line(entries, message):
    with pytest.raises(MnistbenchError) as error:
        planned(*entries)
    assert str(error.value) == message


def test_the_implementations_of_a_backend_not_installed_are_set_aside_with_a_note():
    experiment = planned("backends=numpy", "variants=mlp", "implementations={mxnet: gluon}")
    assert any(
        note.startswith("implementations for backend 'mxnet' set aside: it is not installed")
        for note in experiment.skipped
    )


def test_an_implementation_sweep_combines_with_a_hyperparameter_sweep():
    experiment = planned(
        "backends=torch",
        "variants=mlp",
        "sweeps={mlp: {batch_size: [8, 64]}}",
        "implementations={torch: [tuned, autograd]}",
    )
    assert folders(experiment, "mlp", "torch") == [
        "batch_size=64",
        "batch_size=64,implementation=autograd",
        "batch_size=8",
        "batch_size=8,implementation=autograd",
    ]
    hp = experiment.run_hyperparameters("mlp", "batch_size=8,implementation=autograd")
    assert hp["batch_size"] == 8 and "implementation" not in hp


def test_the_shipped_config_runs_torch_tuned_and_autograd_but_mnn_tuned_only():
    experiment = planned(
        "variants=[mlp, mnn]", "backends=[numpy, torch, jax]", keep_implementations=True
    )
    assert folders(experiment, "mlp", "torch") == ["default", "implementation=autograd"]
    assert folders(experiment, "mnn", "torch") == ["default"]
    assert folders(experiment, "mlp", "numpy") == folders(experiment, "mlp", "jax") == ["default"]


def test_a_misspelt_implementation_name_is_refused_by_the_schema_in_one_line():
    with pytest.raises(MnistbenchError, match=r"^config: implementations\.torch: got 'Auto Grad'"):
        planned("implementations={torch: Auto Grad}")


def test_a_mapping_per_variant_chooses_for_the_named_ones_and_all_for_the_rest():
    experiment = planned(
        "backends=[numpy, torch]",
        "variants=[mlp, mnn, predictive_coding]",
        "implementations={torch: {all: [tuned, autograd], mnn: tuned}}",
    )
    assert folders(experiment, "mlp", "torch") == ["default", "implementation=autograd"]
    assert folders(experiment, "mnn", "torch") == ["default"]
    assert folders(experiment, "mnn", "numpy") == ["default"]
    assert folders(experiment, "predictive_coding", "torch") == ["default"]
    assert [row["point"] for row in experiment.planned_out if row["variant"] == "mnn"] == []
    assert (
        "backend 'torch' has no 'autograd' implementation of variant 'predictive_coding' "
        "(it has: tuned)" in experiment.skipped
    )


def test_a_mapping_without_all_leaves_the_variants_it_does_not_name_their_first_way():
    experiment = planned(
        "backends=torch", "variants=[mlp, mnn]", "implementations={torch: {mnn: autograd}}"
    )
    assert folders(experiment, "mlp", "torch") == ["default"]
    assert folders(experiment, "mnn", "torch") == ["implementation=autograd"]


def test_a_misspelt_variant_in_the_mapping_is_one_line_and_an_absent_one_a_note():
    with pytest.raises(MnistbenchError) as error:
        planned("backends=torch", "implementations={torch: {all: tuned, mnnn: tuned}}")
    assert str(error.value).startswith(
        "config: implementations.torch: unknown variant 'mnnn' (did you mean 'mnn'? installed: "
    )
    experiment = planned(
        "backends=torch", "variants=mlp", "implementations={torch: {resnet50: autograd}}"
    )
    assert any(
        note.startswith("implementations.torch.resnet50 left out: variant 'resnet50' is not ")
        for note in experiment.skipped
    )
