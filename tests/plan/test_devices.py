"""Where a backend's runs go, decided once when the DAG is built (mnistbench.plan.experiment)."""

from __future__ import annotations

import json

from mnistbench.plan.experiment import DEVICES_ENV, run_device
from mnistbench.plugin.registry import load_backends


def test_auto_is_what_the_backend_prefers_on_this_machine():
    registry = load_backends()
    decided = run_device({"devices": {}}, "torch", registry, environ={})
    assert decided == registry.get("torch").devices()[0]


def test_cuda_is_taken_as_asked_even_without_a_gpu_here():
    assert run_device({"devices": {"torch": "cuda"}}, "torch", environ={}) == "cuda"


def test_the_decision_is_handed_on_in_the_environment():
    environ = {}
    run_device({"devices": {"torch": "cuda"}}, "torch", environ=environ)
    run_device({"devices": {}}, "numpy", environ=environ)
    assert json.loads(environ[DEVICES_ENV]) == {"numpy": "cpu", "torch": "cuda"}


def test_a_job_keeps_the_decision_of_the_snakemake_that_submitted_it():
    inherited = {DEVICES_ENV: json.dumps({"torch": "cpu"})}
    assert run_device({"devices": {"torch": "auto"}}, "torch", environ=inherited) == "cpu"
