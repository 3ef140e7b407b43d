"""CPU bundles that fit the partition's nodes, checked with SLURM before anything is submitted.

profiles/slurm bundles CPU runs several to a SLURM job (``group-components: cpu_runs``); the
bundle asks for its runs' cores side by side, at most ``--cores`` wide. A bundle wider than every
node of the partition would wait in the queue for ever (``PartitionConfig``) with nothing to say
why. So the workflow asks ``sinfo`` for the partition's nodes before it submits: without
``--cores`` a bundle is at most as wide as the smallest node, and a ``--cores`` or a thread count
that no node can hold is refused in one line naming both numbers and the setting that fixes it.
"""

from __future__ import annotations

import shutil
import subprocess

from mnistbench.errors import MnistbenchError


def node_cpus(partition: str | None) -> tuple[int, str] | None:
    """The CPUs of the smallest node of ``partition`` (the default one for None), and the
    partition's name; None where ``sinfo`` cannot say."""
    sinfo = shutil.which("sinfo")
    if sinfo is None:
        return None
    command = [sinfo, "--noheader", "--format", "%P %c"]
    if partition:
        command += ["--partition", partition]
    try:
        listed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    found = {}
    for line in listed.stdout.splitlines():
        name, _, cpus = line.strip().partition(" ")
        if cpus.rstrip("+").isdigit():
            found.setdefault(name, []).append(int(cpus.rstrip("+")))
    default = [name for name in found if name.endswith("*")]
    name = partition or (default[0] if default else None)
    cpus = found.get(name) or found.get(f"{name}*")
    return (min(cpus), name.rstrip("*")) if cpus else None


def width(runs: int, threads: int, cores: int | None, cpus: int, partition: str) -> int:
    """How many CPUs a bundle of up to ``runs`` CPU runs of ``threads`` threads asks for: at
    most ``--cores`` where given, else at most what one node of ``partition`` has (``cpus``).

    :raises MnistbenchError: where no node could hold the bundle, in one line naming both
        numbers and the setting that fixes it.
    """
    if threads > cpus:
        raise MnistbenchError(
            f"a run of {threads} threads needs {threads} CPUs, more than the {cpus} a node of"
            f" partition {partition!r} has: ask for at most {cpus} threads"
        )
    if cores is None:
        return min(cpus, runs * threads)
    wide = min(cores, runs * threads)
    if wide > cpus:
        raise MnistbenchError(
            f"--cores {cores} makes a CPU bundle {wide} CPUs wide, more than the {cpus} a node of"
            f" partition {partition!r} has: give --cores {cpus}, or leave it out (a bundle is"
            " then as wide as a node)"
        )
    return wide
