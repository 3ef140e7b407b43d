"""Planning the runs from a config: every mistake beyond the schema is one clear line."""

from __future__ import annotations

import copy

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plan import experiment as experiment_module
from mnistbench.plan.experiment import Run, plan
from mnistbench.plugin.registry import Registry, load_backends
from mnistbench.variants import VARIANTS, get_variant
from tests.conftest import CONFIG


def config_with(**changes):
    config = copy.deepcopy(CONFIG)
    config.update(changes)
    return config


def test_the_shipped_config_plans_every_combination():
    experiment = plan(CONFIG)
    backends = load_backends().available()
    assert CONFIG["variants"] == "all"
    # PyTorch runs tuned and autograd, mnn tuned only; the others their first way
    assert CONFIG["implementations"] == {"torch": {"all": ["tuned", "autograd"], "mnn": "tuned"}}
    twice = (
        [v for v in VARIANTS if v not in ("mnn", "predictive_coding")]
        if "torch" in backends
        else []
    )
    pairs = len(VARIANTS) * len(backends) + len(twice)
    assert len(experiment.runs) == pairs * len(CONFIG["seeds"])
    assert Run("mnist", "mlp", "torch", "default", 0) in experiment.runs
    autograd = {(r.variant, r.backend) for r in experiment.runs if "implementation" in r.point}
    assert autograd == {(v, "torch") for v in twice}
    assert experiment.runs[0].directory == f"results/mnist/dropout_mlp/{backends[0]}/default/seed0"


def test_hyperparameters_come_from_the_config_over_the_variants_defaults():
    config = config_with(hyperparameters={"mlp": {"lr": 0.05}})
    experiment = plan(config)
    assert experiment.hyperparameters["mlp"] == {**get_variant("mlp").defaults, "lr": 0.05}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"datasets": ["kmnist"]}, "config: dataset 'kmnist' has no entry in dataset_definitions"),
        ({"variants": ["resnet"]}, "unknown variant 'resnet'"),
        ({"backends": ["mxnet"]}, "backend 'mxnet' is not installed"),
        (
            {"devices": {"troch": "cuda"}},
            "config: devices: unknown backend 'troch' (did you mean 'torch'?",
        ),
        (
            {"hyperparameters": {"mlp": {"batch_size": 0}}},
            "'batch_size' must be an integer above 0",
        ),
        ({"hyperparameters": {"mlp": {"epochs": 2.5}}}, "'epochs' must be an integer above 0"),
        ({"hyperparameters": {"dropout_mlp": {"keep": 1.5}}}, "'keep' must be a finite number"),
        ({"hyperparameters": {"mlp": {"learning_rate": 0.1}}}, "unknown hyperparameter(s)"),
        ({"hyperparameters": {"mlpp": {"lr": 0.1}}}, "unknown variant 'mlpp' (did you mean 'mlp'?"),
    ],
)
def test_a_config_mistake_is_one_line_naming_it(changes, message):
    with pytest.raises(MnistbenchError) as error:
        plan(config_with(**changes))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def only_numpy():
    """The registry of an environment with the NumPy plugin alone."""
    return Registry(backends={"numpy": load_backends().backends["numpy"]})


def test_devices_for_a_backend_that_is_not_installed_are_set_aside_with_one_note():
    experiment = plan(config_with(devices={"torch": "auto", "numpy": "cpu"}), only_numpy())
    assert {run.backend for run in experiment.runs} == {"numpy"}
    [note] = [line for line in experiment.skipped if "torch" in line]
    assert note == (
        "devices, implementations for backend 'torch' set aside: it is not installed "
        "(installed: numpy)"
    )


def test_every_per_backend_setting_of_an_uninstalled_backend_is_named_in_its_one_note(
    monkeypatch,
):
    monkeypatch.setattr(
        experiment_module, "PER_BACKEND_SETTINGS", ("devices", "implementations", "pools")
    )
    config = config_with(
        devices={"torch": "auto"},
        implementations={"torch": "tuned"},
        pools={"torch": 2, "numpy": 1},
    )
    experiment = plan(config, only_numpy())
    [note] = [line for line in experiment.skipped if "torch" in line]
    assert note.startswith(
        "devices, implementations, pools for backend 'torch' set aside: it is not installed"
    )
