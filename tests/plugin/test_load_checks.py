"""Mistakes in a plugin are caught when it loads, each as one line naming the module, the function
and the protocol's version: a backend that lacks part of its surface is a failed plugin, a step
module that lacks a function its backend's protocol requires leaves its (variant, backend) pair
out, and both that and a protocol mismatch are warnings the user sees on stderr."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mnistbench.plugin import StepProtocol
from mnistbench.plugin.hookspecs import HOOK_VERSION
from mnistbench.plugin.registry import collect_backends, get_plugin_manager
from tests.distributions import install_distribution
from tests.plugin.test_plugins import numpy_plugin
from tests.workflow.runner import copy_workflow

NUMPY = "(numpy step protocol version 1)"
HOOKS = f"(mnistbench hook version {HOOK_VERSION})"


def failure_of(plugin: object) -> str:
    manager, _ = get_plugin_manager()
    manager.register(plugin, name="mine")
    registry = collect_backends(manager)
    assert "mine" not in registry.backends
    [failure] = [f for f in registry.failures if f.plugin == "mine"]
    return failure.error


def test_a_backend_without_setup_is_a_failed_plugin_naming_its_module_and_the_hook_version():
    error = failure_of(numpy_plugin("mine", setup=None))
    assert error == (
        "tests.plugin.test_plugins.Renamed is not a mnistbench Backend: setup(spec) is missing "
        f"(mnistbench hook version {HOOK_VERSION})"
    )


def test_a_backend_whose_predict_takes_other_parameters_is_a_failed_plugin():
    error = failure_of(numpy_plugin("mine", predict=lambda self, variant, x: x))
    assert error == (
        "tests.plugin.test_plugins.Renamed is not a mnistbench Backend: predict(variant, "
        "hyperparameters, weights, x, device) takes (variant, x) "
        f"(mnistbench hook version {HOOK_VERSION})"
    )


def test_a_backend_without_a_name_is_a_failed_plugin_saying_so():
    class Nameless:
        version, variants = "1", frozenset()

    class Plugin:
        from mnistbench import hookimpl

        @hookimpl
        def mnistbench_register_backends(self):
            return [Nameless()]

    error = failure_of(Plugin())
    assert error.endswith(f"Nameless is not a mnistbench Backend: it has no name {HOOKS}")


PROTOCOL = StepProtocol("numpy", 1, {"STEP": "w, state, x, y, extras, hp", "initial_state": "w"})


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def STEP(w, state, x, y, extras, hp): ...", "initial_state(w) is missing"),
        (
            "STEP = 3\ndef initial_state(w): ...",
            "STEP(w, state, x, y, extras, hp) is not callable (int)",
        ),
        (
            "def STEP(w, x, y): ...\ndef initial_state(w): ...",
            "STEP(w, state, x, y, extras, hp) takes (w, x, y)",
        ),
    ],
)
def test_a_step_module_lacking_or_mistaking_a_required_function_is_one_line(
    tmp_path, source, problem
):
    assert PROTOCOL.problem(module_from(tmp_path, source)) == f"steps: {problem} {NUMPY}"


def test_a_step_that_names_its_parameters_otherwise_or_adds_defaults_fits(tmp_path):
    source = "def STEP(p, s, a, b, c, d, scale=1.0): ...\ndef initial_state(params): ..."
    assert PROTOCOL.problem(module_from(tmp_path, source)) is None


def module_from(folder: Path, source: str) -> ModuleType:
    """A module named ``steps`` made from ``source``, outside sys.modules."""
    (folder / "steps.py").write_text(source)
    spec = importlib.util.spec_from_file_location("steps", folder / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A variant plugin: mlp under two new names, shipping NumPy steps that lack initial_state and
# steps written for a NumPy protocol that does not exist yet.
VARIANTS = """
    import dataclasses
    from mnistbench.plugin import StepModule
    from mnistbench.variants.mlp import VARIANT as MLP

    NO_STATE = dataclasses.replace(
        MLP, name="mlp_nostate", steps=(StepModule("numpy", "nostate_steps", protocol=1),)
    )
    FUTURE = dataclasses.replace(
        MLP, name="mlp_future", steps=(StepModule("numpy", "mnistbench_numpy.mlp", protocol=2),)
    )
"""
NO_STATE_STEPS = """
    from mnistbench_numpy.mlp import STEP, predict
"""
LACKS = (
    "variant 'mlp_nostate' left out of backend 'numpy': nostate_steps: initial_state(w) is "
    f"missing {NUMPY}"
)
MISMATCH = "variant 'mlp_future' ships a numpy step for protocol 2; numpy speaks 1: left out"


@pytest.fixture
def broken_variants(tmp_path) -> Path:
    site = tmp_path / "site"
    entry_points = "mlp_nostate = broken_variants:NO_STATE\nmlp_future = broken_variants:FUTURE"
    modules = {"broken_variants": VARIANTS, "nostate_steps": NO_STATE_STEPS}
    install_distribution(site, "mnistbench_broken", entry_points, modules, "mnistbench.variants")
    return site


def test_mnistbench_backends_warns_of_each_left_out_step_module_and_lists_the_rest(
    broken_variants,
):
    code = "from mnistbench.cli import main; raise SystemExit(main(['backends']))"
    env = {"PYTHONPATH": str(broken_variants)}
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert f"warning: {LACKS}" in result.stderr.splitlines()
    assert f"warning: {MISMATCH}" in result.stderr.splitlines()
    [numpy] = [line for line in result.stdout.splitlines() if line.startswith("numpy ")]
    assert "mlp_nostate" not in numpy and "mlp_future" not in numpy and "sigmoid_mlp" in numpy


def test_backends_json_says_why_each_step_module_was_left_out(broken_variants):
    code = "from mnistbench.cli import main; raise SystemExit(main(['backends', '--json']))"
    result = run_python(code, {"PYTHONPATH": str(broken_variants)})
    assert result.returncode == 0, result.stderr
    [numpy] = [entry for entry in json.loads(result.stdout) if entry["name"] == "numpy"]
    assert sorted(numpy["left_out"]) == sorted([LACKS, MISMATCH])


@pytest.mark.slow
def test_planning_warns_of_a_left_out_step_module_on_stderr_and_plans_the_rest(
    broken_variants, tmp_path
):
    (tmp_path / "work").mkdir()
    work = copy_workflow(tmp_path / "work")
    command = [sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1", "--configfile"]
    result = subprocess.run(
        [*command, "config/quick.yaml", "--config", "backends=[numpy]", "seeds=[0]"],
        cwd=work,
        env=environment({"PYTHONPATH": str(broken_variants)}),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert f"mnistbench: {LACKS}" in lines and f"mnistbench: {MISMATCH}" in lines
    assert "mnistbench: backend 'numpy' does not implement variant 'mlp_nostate'" in lines


def environment(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=environment(env), capture_output=True, text=True
    )


SHIPPED_PROTOCOLS = [
    ("mnistbench_numpy", "STEPS", "mnistbench_lenet.numpy_steps"),
    ("mnistbench_jax", "STEPS", "mnistbench_lenet.jax_steps"),
    ("mnistbench_torch", "STEPS", "mnistbench_lenet.torch_steps"),
    ("mnistbench_torch", "MODELS", "mnistbench_lenet.torch_model"),
]


@pytest.mark.parametrize(("backend", "protocol", "module"), SHIPPED_PROTOCOLS)
def test_each_shipped_protocol_fits_the_lenet_plugin_and_names_what_a_module_lacks(
    backend, protocol, module
):
    protocol = getattr(importlib.import_module(backend), protocol)
    real = importlib.import_module(module)
    assert protocol.problem(real) is None
    first, *rest = protocol.required
    lacking = ModuleType("lacking")
    for name in rest:
        setattr(lacking, name, getattr(real, name))
    assert protocol.problem(lacking) == (
        f"lacking: {first}({protocol.required[first]}) is missing "
        f"({protocol.backend} step protocol version {protocol.version})"
    )
