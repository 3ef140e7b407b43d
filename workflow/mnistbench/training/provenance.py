"""What produced a number: project commit, package versions, machine and device, and the
libraries that did the arithmetic (:mod:`mnistbench.training.kernels`), per run.

``train`` records these in ``train.json``; ``aggregate`` flattens them into ``provenance.csv``
(:func:`flatten`); the report shows what all runs share once and lists the runs that differ.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mnistbench import __version__
from mnistbench.plugin import threads as thread_control
from mnistbench.training import kernels

PACKAGE = Path(__file__).resolve().parents[1]
UNKNOWN = "unknown"
# The core's libraries and those the built-in backends compute with beside their framework:
# SciPy's BLAS and numba's kernels (NumPy backend), jaxlib (XLA itself; jax is its Python API).
PACKAGES = ("numpy", "pandas", "pluggy", "scipy", "numba", "jaxlib", "threadpoolctl")


def versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of mnistbench, Python and ``packages`` (``not installed`` if absent).

    The backend's own framework version is recorded beside it as ``backend_version``.
    """
    found = {"mnistbench": __version__, "python": platform.python_version()}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def project(where: Path = PACKAGE) -> dict[str, Any]:
    """The git commit of the checkout holding ``where``, and whether its tree had changes.

    ``dirty`` is true when tracked files differ from the commit or untracked files exist outside
    ``.gitignore``. Outside a git checkout (an installed wheel), or without git: ``unknown``.
    """
    try:
        commit = _git(where, "rev-parse", "HEAD")
        dirty = bool(_git(where, "status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": UNKNOWN, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _git(where: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(where), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name: from ``/proc/cpuinfo`` on Linux, else what ``platform`` says."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or UNKNOWN


def gpu(device: str) -> str:
    """The GPU model a CUDA run used, asked of the framework already loaded; ``none`` on CPU."""
    if device != "cuda":
        return "none"
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
        return sys.modules["torch"].cuda.get_device_name()
    if "jax" in sys.modules:
        return sys.modules["jax"].devices()[0].device_kind
    return UNKNOWN


def machine(device: str) -> dict[str, Any]:
    """The host: platform, CPU model, cores, the job's thread count, for CUDA the GPU model and
    the CUDA and cuDNN versions, and on SLURM the job that ran it (look it up with ``sacct -j``).
    """
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cores_available": available or os.cpu_count(),
        "threads": thread_control.describe(),
        "gpu": gpu(device),
        **kernels.gpu_libraries(device),
        **({"slurm_job_id": os.environ["SLURM_JOB_ID"]} if os.environ.get("SLURM_JOB_ID") else {}),
    }


def record(device: str) -> dict[str, Any]:
    """What a run records of its making in ``train.json``: project, versions, the libraries that
    did its arithmetic (asked after training, so every library the run loaded is there) and
    machine."""
    return {
        "project": project(),
        "versions": versions(),
        "kernels": kernels.loaded(),
        "machine": machine(device),
    }


def flatten(record: Mapping[str, Any]) -> dict[str, str]:
    """A run's provenance as ``item -> value`` strings, for ``provenance.csv``.

    ``record`` is a run's ``train.json`` (or ``metrics.json``); what an older mnistbench did not
    record reads ``unknown``.
    """
    code = record.get("project", {})
    dirty = code.get("dirty")
    host = record.get("machine", {})
    items = {
        "commit": code.get("commit", UNKNOWN),
        "uncommitted changes": UNKNOWN if dirty is None else ("yes" if dirty else "no"),
        "CPU model": host.get("cpu_model", UNKNOWN),
        "CPU cores": host.get("cpu_cores", UNKNOWN),
        "cores available to the job": host.get("cores_available", UNKNOWN),
        "threads": host.get("threads", UNKNOWN),
        "GPU": host.get("gpu", UNKNOWN),
        "CUDA": host.get("cuda", UNKNOWN),
        "cuDNN": host.get("cudnn", UNKNOWN),
        "platform": host.get("platform", UNKNOWN),
        "framework": f"{record.get('backend', '?')} {record.get('backend_version', UNKNOWN)}",
    }
    items.update({name: version for name, version in record.get("versions", {}).items()})
    items.update(kernels.describe(kernel) for kernel in record.get("kernels", []))
    items.update({f"data {role}": sha for role, sha in record.get("data_sha256", {}).items()})
    return {item: str(value) for item, value in items.items()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (exact, from the kernel)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB else


def memory_limit_bytes() -> int:
    """The memory this process may use: the machine's, or its cgroup's limit where lower
    (a container, a SLURM job)."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            limit = min(limit, int(text))
    return limit
