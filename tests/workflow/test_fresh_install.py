"""The core, the three backend plugins and the LeNet variant plugin install into a fresh venv
from their folders, the quick DAG trains all three backends and LeNet on each with no edit to the
workflow, ``pip uninstall mnistbench-lenet`` or ``mnistbench-jax`` drops its rows with no
error, and with the core and the NumPy plugin alone the shipped configs run as they are.

A real venv and a real ``pip install`` / ``pip uninstall`` of the five folders. To stay fast and
offline, the venv does not download the frameworks again: it sees the third-party packages of
the test's own environment through a ``.pth`` file pointing at a folder that links to each of
them, and to no ``mnistbench`` distribution, so the only backends it can find are the ones pip
installed into it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from tests.workflow.runner import REPO, SAMPLE_CONFIG, copy_workflow, planned_jobs

pytestmark = pytest.mark.slow
FOLDERS = {  # distribution -> its folder in the repository
    "mnistbench": ".",
    "mnistbench-numpy": "plugins/mnistbench-numpy",
    "mnistbench-torch": "plugins/mnistbench-torch",
    "mnistbench-jax": "plugins/mnistbench-jax",
    "mnistbench-lenet": "plugins/mnistbench-lenet",
}
BUILT = shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "tests", ".venv")


def third_party_packages(folder: Path) -> Path:
    """A folder linking to every entry of this environment's site-packages except mnistbench's
    own (its distributions, editable finders and .pth files)."""
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        own = entry.name.startswith(("mnistbench", "__editable__"))
        if not own and entry.suffix != ".pth" and entry.name != "__pycache__":
            (folder / entry.name).symlink_to(entry)
    return folder


def copy_sources(destination: Path) -> dict[str, Path]:
    """Each distribution's folder copied (sources only), so pip's build leaves the repo alone."""
    copies = {}
    for distribution, folder in FOLDERS.items():
        copies[distribution] = destination / distribution
        if folder == ".":
            copies[distribution].mkdir(parents=True)
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(REPO / name, copies[distribution])
            shutil.copytree(REPO / "workflow", copies[distribution] / "workflow", ignore=BUILT)
        else:
            shutil.copytree(REPO / folder, copies[distribution], ignore=BUILT)
    return copies


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """The fresh venv's python, with the core and the four plugins pip-installed into it."""
    root = tmp_path_factory.mktemp("fresh")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root / "venv"], check=True)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "third_party.pth").write_text(f"{third_party_packages(root / 'deps')}\n")
    copies = copy_sources(root / "src")
    offline = ("--no-deps", "--no-build-isolation", "--no-index")
    pip("install", *offline, *copies.values(), python=python)
    return python


def pip(*args, python: Path) -> None:
    result = subprocess.run([python, "-m", "pip", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def listed_backends(python: Path) -> dict[str, dict]:
    result = subprocess.run(
        [python, "-m", "mnistbench", "backends", "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


def quick_dag(python: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    """The quick config on the sample, run by the venv's own Snakemake with ``args`` (default:
    ``mlp`` only)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("MNISTBENCH_MIRROR", "PYTHONPATH")}
    configs = ["config/quick.yaml", SAMPLE_CONFIG]
    command = [python, "-m", "snakemake", "--cores", "2", "--configfile", *configs]
    return subprocess.run(
        [*command, *(args or ("--config", "variants=[mlp]"))],
        cwd=work,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


def summary_backends(work: Path) -> list[str]:
    """The backends with a row in the summary (PyTorch has two: tuned and autograd)."""
    return sorted(set(pd.read_csv(work / "results" / "summary.csv")["backend"]))


def planned_trains(result: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    """(variant, backend) of every train job a dry run planned."""
    return {(job[1], job[2]) for job in planned_jobs(result) if job[0] == "train_model"}


def listed_variants(python: Path) -> list[str]:
    result = subprocess.run(
        [python, "-m", "mnistbench", "variants", "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return sorted(entry["name"] for entry in json.loads(result.stdout))


def test_the_three_plugins_installed_from_their_folders_are_listed_with_their_distributions(venv):
    listed = listed_backends(venv)
    assert sorted(listed) == ["jax", "numpy", "torch"]
    for name, entry in listed.items():
        assert entry["available"], entry
        assert entry["distribution"] == f"mnistbench-{name}"


# Before the JAX case below, which uninstalls JAX from the same venv.
def test_lenet_joins_the_quick_dag_on_all_three_then_uninstalling_it_drops_its_rows(venv, tmp_path):
    work = copy_workflow(tmp_path)
    backends = {"jax", "numpy", "torch"}
    assert "lenet" in listed_variants(venv)
    planned = planned_trains(quick_dag(venv, work, "--dry-run"))  # variants: all
    assert {backend for variant, backend in planned if variant == "lenet"} == backends
    trained = quick_dag(venv, work, "--config", "variants=[lenet]")
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-3000:]
    assert summary_backends(work) == sorted(backends)

    pip("uninstall", "-y", "mnistbench-lenet", python=venv)
    assert "lenet" not in listed_variants(venv)
    after = quick_dag(venv, work, "--dry-run")
    assert after.returncode == 0, (after.stdout + after.stderr)[-3000:]
    planned_after = planned_trains(after)
    assert planned_after == {(v, b) for v, b in planned if v != "lenet"}
    [mention] = [line for line in after.stderr.splitlines() if "lenet" in line]
    assert mention.startswith(  # quick.yaml's LeNet settings, nothing else
        "mnistbench: hyperparameters for variant 'lenet' left out: it is not installed"
    )


def test_the_quick_dag_trains_all_three_then_uninstalling_jax_drops_its_rows(venv, tmp_path):
    work = copy_workflow(tmp_path)
    first = quick_dag(venv, work)
    assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
    assert summary_backends(work) == ["jax", "numpy", "torch"]
    summary = pd.read_csv(work / "results" / "summary.csv")
    # the installed plugin ships its models: PyTorch trains autograd beside tuned
    assert set(summary.loc[summary["backend"] == "torch", "implementation"]) == {
        "tuned",
        "autograd",
    }

    pip("uninstall", "-y", "mnistbench-jax", python=venv)
    assert sorted(listed_backends(venv)) == ["numpy", "torch"]
    second = quick_dag(venv, work)
    assert second.returncode == 0, (second.stdout + second.stderr)[-3000:]
    assert summary_backends(work) == ["numpy", "torch"]
    assert "jax" not in (second.stdout + second.stderr).lower()


# Last: it leaves the venv with the core and the NumPy plugin only.
def test_with_only_the_numpy_plugin_the_shipped_configs_run_unedited(venv, tmp_path):
    pip("uninstall", "-y", "mnistbench-torch", "mnistbench-jax", "mnistbench-lenet", python=venv)
    assert sorted(listed_backends(venv)) == ["numpy"]
    work = copy_workflow(tmp_path)
    note = (
        "mnistbench: devices, implementations for backend 'torch' set aside: it is not "
        "installed (installed: numpy)"
    )
    planned = subprocess.run(  # the default experiment, as shipped: planned, not run
        [venv, "-m", "snakemake", "--dry-run", "--cores", "2"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert planned.returncode == 0, (planned.stdout + planned.stderr)[-3000:]
    assert note in planned.stderr.splitlines()
    assert {backend for _, backend in planned_trains(planned)} == {"numpy"}

    quick = quick_dag(venv, work, "--config", "seeds=[0]")  # config/quick.yaml, every variant
    assert quick.returncode == 0, (quick.stdout + quick.stderr)[-3000:]
    assert note in quick.stderr.splitlines()
    summary = pd.read_csv(work / "results" / "summary.csv")
    assert set(summary["backend"]) == {"numpy"}
    assert sorted(set(summary["variant"])) == listed_variants(venv)
