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


def workflow_changes(where: Path | None = None) -> bool | None:
    """Whether the checkout holding the directory the workflow runs in (``where``, else the
    current one: Snakemake's working directory) has uncommitted changes: its config and rules,
    not the installed package's. None outside a git checkout."""
    try:
        return bool(_git(where or Path.cwd(), "status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return None


def load() -> dict[str, Any]:
    """How busy the machine is now: the load average over 1, 5 and 15 minutes and the memory
    available of the total, in MiB (Linux's ``/proc/meminfo``); what is unknown is left out."""
    found: dict[str, Any] = {}
    if hasattr(os, "getloadavg"):
        found["load_average"] = [round(v, 2) for v in os.getloadavg()]
    try:
        meminfo = dict(
            line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()
        )
        for key, name in (("MemAvailable", "memory_available_mib"), ("MemTotal", "memory_mib")):
            found[name] = int(meminfo[key].split()[0]) // 1024  # kB
    except (OSError, KeyError, ValueError):
        pass
    return found


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


def record(device: str, at_start: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a run records of its making in ``train.json``: project (with the workflow
    directory's uncommitted changes), versions, the libraries that did its arithmetic (asked
    after training, so every library the run loaded is there), machine, and its load at the
    job's start (``at_start``, from :func:`load`) and now, at its end."""
    return {
        "project": {**project(), "workflow_dirty": workflow_changes()},
        "load": {"start": dict(at_start or {}), "end": load()},
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
    dirty = code.get("workflow_dirty", code.get("dirty"))
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
    items.update(load_items(record.get("load", {})))
    items.update({name: version for name, version in record.get("versions", {}).items()})
    items.update(kernels.describe(kernel) for kernel in record.get("kernels", []))
    items.update({f"data {role}": sha for role, sha in record.get("data_sha256", {}).items()})
    return {item: str(value) for item, value in items.items()}


LOAD_PREFIXES = ("load average at", "memory available at")  # items of a job's own moment


def load_items(at: Mapping[str, Any]) -> dict[str, str]:
    """The load :func:`record` took at a job's start and end, as provenance items."""
    items = {}
    for when in ("start", "end"):
        found = at.get(when, {})
        if "load_average" in found:
            averages = ", ".join(f"{v:g}" for v in found["load_average"])
            items[f"load average at the job's {when} (1, 5, 15 min)"] = averages
        if "memory_available_mib" in found:
            free, total = found["memory_available_mib"], found.get("memory_mib", UNKNOWN)
            items[f"memory available at the job's {when} (MiB)"] = f"{free:,} of {total:,}"
    return items


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (exact, from the kernel)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB else


CLEAR_REFS, STATUS = Path("/proc/self/clear_refs"), Path("/proc/self/status")


def _status_mib(field: str) -> float | None:
    """``VmRSS`` or ``VmHWM`` of this process from Linux's ``/proc/self/status``, in MiB."""
    try:
        lines = STATUS.read_text().splitlines()
    except OSError:
        return None
    found = [line.split()[1] for line in lines if line.startswith(f"{field}:")]
    return int(found[0]) / 1024 if found else None  # kB


def memory_baseline() -> float:
    """This process's resident memory now, in MiB: where a run's own memory starts, once its
    libraries are imported and its backend set up. On Linux the kernel's peak is reset to it
    (5 to ``/proc/self/clear_refs``), so that :func:`memory_above` sees only what comes after."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        pass  # not Linux: the peak then includes the imports'
    return _status_mib("VmRSS") or peak_rss_mb()


def memory_above(baseline: float) -> float:
    """Peak resident memory since :func:`memory_baseline`, above ``baseline``, in MiB: what the
    training itself took (its batches, gradients, its framework's work), not the libraries the
    process imported before."""
    peak = _status_mib("VmHWM") or peak_rss_mb()
    return max(0.0, peak - baseline)


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
