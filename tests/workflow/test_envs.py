"""The conda environments of the rules (workflow/envs, for ``snakemake --sdm conda``).

No conda channel is needed: the files are checked as written. Each parses; each rule names one;
each lists every package that its rules' steps import (found by running the steps for real and
reading ``sys.modules``) that pyproject.toml declares, with a version range inside
pyproject.toml's; and environment.yml lists the same packages with the same versions.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.cli import run_cli
from tests.conftest import SAMPLE_DIR, SAMPLE_FILES

REPO = Path(__file__).resolve().parents[2]
ENVS = REPO / "workflow" / "envs"
BACKENDS = ("numpy", "torch", "jax")
# conda-forge's name where it differs from the distribution's on PyPI.
CONDA_NAMES = {"torch": "pytorch", "matplotlib": "matplotlib-base"}
# The rules of each environment, as workflow/rules/*.smk give them.
CORE_RULES = {"fetch_dataset_file", "aggregate_results", "write_report"}
RUN_RULES = {"train_model", "evaluate_model"}  # workflow/envs/<backend>.yaml


def conda_packages(path: Path) -> dict[str, str]:
    """``name -> version spec`` ('' when open) of a conda environment file's dependencies."""
    packages = {}
    for entry in yaml.safe_load(path.read_text())["dependencies"]:
        if isinstance(entry, str):
            name, spec = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", entry).groups()
            packages[name] = spec.replace(" ", "")
    return packages


def pip_spec(conda_spec: str) -> SpecifierSet:
    """A conda version spec as pip reads one: ``=2.13`` means ``==2.13.*``."""
    parts = [f"=={p[1:]}.*" if re.fullmatch(r"=[^=].*", p) else p for p in conda_spec.split(",")]
    return SpecifierSet(",".join(p for p in parts if p))


def declared() -> dict[str, SpecifierSet]:
    """Every dependency pyproject.toml declares (core and built-in plugins), by conda name."""
    found = {}
    for pyproject in [REPO / "pyproject.toml", *REPO.glob("plugins/*/pyproject.toml")]:
        project = tomllib.loads(pyproject.read_text())["project"]
        found["python"] = SpecifierSet(project["requires-python"])
        for line in project["dependencies"]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if not name.startswith("mnistbench"):  # this checkout's own: post-deploy installs
                found[CONDA_NAMES.get(name, name)] = requirement.specifier
    return found


def within(env: SpecifierSet, allowed: SpecifierSet) -> bool:
    """Whether every version ``env`` allows is one ``allowed`` allows, probed at each bound
    either names, just past it, the next minor and major, and far beyond."""
    probes = {Version("0"), Version("999")}
    for spec in [*env, *allowed]:
        v = Version(spec.version.removesuffix(".*"))
        major, minor = v.major, v.minor
        probes |= {v, Version(f"{major}.{minor}.999"), Version(f"{major}.{minor + 1}")}
        probes.add(Version(f"{major + 1}"))
    return all(allowed.contains(v) for v in probes if env.contains(v))


def rule_envs() -> dict[str, str]:
    """``rule -> conda directive`` as written in workflow/rules/*.smk."""
    found = {}
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for rule, body in re.findall(r"^rule (\w+):\n((?:    .*\n|\n)*)", smk.read_text(), re.M):
            match = re.search(r"^    conda:\n        (.+)$", body, re.M)
            found[rule] = match.group(1) if match else None
    return found


# Runs mnistbench steps in this process one after another, then prints the distributions of
# every module they imported (the step commands import what they need inside their functions).
PROBE = """
import json, sys, importlib.metadata as md
from mnistbench.cli import main
for args in json.loads(sys.argv[1]):
    assert main(args) == 0, args
dists = md.packages_distributions()
names = {d for m in list(sys.modules) for d in dists.get(m.split(".")[0], [])}
print(json.dumps(sorted(names)))
"""


def imported(steps: list[list[str]]) -> set[str]:
    """Conda names of the distributions that running ``steps`` imports."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(steps)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    names = {canonicalize_name(n) for n in json.loads(result.stdout.splitlines()[-1])}
    return {CONDA_NAMES.get(n, n) for n in names}


@pytest.fixture(scope="module")
def steps(sample_dir, tmp_path_factory) -> dict[str, list[list[str]]]:
    """The step commands behind each environment's rules, on the MNIST sample."""
    work = tmp_path_factory.mktemp("steps")
    spec = SAMPLE_FILES["test_labels"]
    fetch = ["fetch", "--file", spec["name"], "--sha256", spec["sha256"]]
    fetch += ["--mirror", str(SAMPLE_DIR), "--out", str(work / "fetched.idx")]
    runs = {}
    for backend in BACKENDS:
        run = work / backend
        train = ["-q", "train", "--data", str(sample_dir), "--dataset", "sample"]
        train += ["--variant", "mlp", "--backend", backend, "--seed", "0", "--out", str(run)]
        train += ["--hparams", '{"epochs": 1}', "--train-limit", "200", "--test-limit", "100"]
        runs[backend] = [train, ["-q", "evaluate", "--data", str(sample_dir), "--run", str(run)]]
    for command in runs["numpy"]:  # a finished run for the aggregate and report steps
        assert run_cli(*command).returncode == 0
    tables = work / "tables"
    core = [fetch, ["-q", "aggregate", str(work / "numpy" / "metrics.json"), "--out", str(tables)]]
    core.append(["-q", "report", "--tables", str(tables), "--out", str(work / "report.html")])
    return {**runs, "core": core}


def test_every_env_file_parses_with_conda_forge_and_the_projects_python():
    for path in ENVS.glob("*.yaml"):
        env = yaml.safe_load(path.read_text())
        assert env["channels"][0] == "conda-forge", path.name
        assert conda_packages(path)["python"] == "=3.11", path.name
        assert "pip" in conda_packages(path), path.name


def test_the_data_and_report_rules_use_the_core_env_and_runs_their_backends():
    envs = rule_envs()
    assert {rule: envs[rule] for rule in CORE_RULES} == dict.fromkeys(
        CORE_RULES, '"../envs/core.yaml"'
    )
    assert {rule: envs[rule] for rule in RUN_RULES} == dict.fromkeys(RUN_RULES, "get_conda_env")
    for backend in BACKENDS:
        assert (ENVS / f"{backend}.yaml").is_file(), backend


def test_each_env_installs_this_checkouts_packages_after_creation():
    for name in ("core", *BACKENDS):
        script = (ENVS / f"{name}.post-deploy.sh").read_text()
        wanted = "-e ." if name == "core" else f"-e . -e plugins/mnistbench-{name}"
        assert f"python -m pip install --no-deps {wanted}\n" in script, name
    for backend in BACKENDS:
        assert (REPO / "plugins" / f"mnistbench-{backend}" / "pyproject.toml").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("env", ["core", *BACKENDS])
def test_each_env_lists_every_declared_package_its_steps_import(env, steps):
    needed = imported(steps[env]) & set(declared())
    assert needed, "the probe found none of pyproject.toml's dependencies"
    missing = needed - set(conda_packages(ENVS / f"{env}.yaml"))
    assert not missing, f"{env}.yaml lacks {sorted(missing)}"


def test_env_versions_lie_within_pyproject_ranges():
    allowed = declared()
    for path in ENVS.glob("*.yaml"):
        for name, spec in conda_packages(path).items():
            if name in allowed:
                assert within(pip_spec(spec), allowed[name]), f"{path.name}: {name}{spec}"


def test_environment_yml_lists_every_env_package_with_the_same_version():
    everything = conda_packages(REPO / "environment.yml")
    for path in ENVS.glob("*.yaml"):
        for name, spec in conda_packages(path).items():
            assert everything.get(name) == spec, f"{path.name}: {name}{spec}"


def test_the_version_check_refuses_a_range_wider_than_pyprojects():
    assert not within(pip_spec(">=9"), SpecifierSet(">=9,<10"))
    assert not within(pip_spec(">=1.20"), SpecifierSet(">=1.26"))
    assert within(pip_spec("=2.13"), SpecifierSet(">=2.1"))
