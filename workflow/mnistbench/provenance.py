"""What produced a number: package versions, machine and device, recorded with every run."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import resource
import sys
from pathlib import Path

from mnistbench import __version__


def versions(packages: tuple[str, ...] = ("numpy", "pandas", "pluggy")) -> dict[str, str]:
    """Installed versions of mnistbench, Python and the core's ``packages``.

    The backend's own framework version is recorded beside it as ``backend_version``.
    """
    found = {"mnistbench": __version__, "python": platform.python_version()}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def machine(device: str) -> dict[str, str]:
    """The host, for CUDA the GPU model the run used, and on SLURM the job that ran it."""
    info = {"platform": platform.platform(), "processor": platform.machine()}
    if device == "cuda" and "torch" in sys.modules:
        info["gpu"] = sys.modules["torch"].cuda.get_device_name()
    if os.environ.get("SLURM_JOB_ID"):  # look it up with sacct -j
        info["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
    return info


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
