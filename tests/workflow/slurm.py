"""A real one-node SLURM cluster for the tests: Debian's slurm-wlm and munge, run as root.

:func:`start` writes a ``slurm.conf`` and a munge key into a folder of its own, starts
``munged``, ``slurmctld`` and ``slurmd`` on free ports, and waits until the node is idle; the
returned :class:`Cluster` gives the environment that points SLURM's commands at it and stops the
daemons it started. Accounting goes to a text file that ``sacct --completion`` reads, so no
database is needed. ``MinJobAge`` keeps finished jobs in ``squeue`` (and ``scontrol show job``)
for ten minutes, long enough for the executor plugin's ``squeue`` status command.

The node declares one GPU of model ``a100`` as a generic resource whose device file is
``/dev/null``: enough for SLURM to schedule a job that asks for a GPU and to show what it asked
for (``scontrol show job``: ``TresPerJob=gres:gpu:a100:1``), though nothing on it computes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
GPU_MODEL = "a100"
GPU = f"gpu:{GPU_MODEL}:1"
PACKAGES = ("slurm-wlm", "munge")


def missing_reason() -> str | None:
    """Why a cluster cannot be started here, or None: needs root and the Debian packages,
    installed with apt-get when root has it."""
    if all(shutil.which(d) or Path(f"/usr/sbin/{d}").exists() for d in DAEMONS):
        return None if os.geteuid() == 0 else "SLURM's daemons need root"
    if os.geteuid() != 0:
        return "needs root to install and run slurm-wlm and munge"
    if not shutil.which("apt-get"):
        return "needs apt-get to install slurm-wlm and munge"
    install = ["apt-get", "install", "-y", "-qq", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:
        update = subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=900)
        result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
        if update.returncode != 0 or result.returncode != 0:
            return f"apt-get could not install {' '.join(PACKAGES)}: {result.stderr.strip()[-200:]}"
    return None


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def daemon(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


@dataclass
class Cluster:
    root: Path
    node: str

    @property
    def env(self) -> dict[str, str]:
        """Variables that point sbatch, srun, squeue, sacct and scontrol at this cluster.

        ``bin/`` comes first on PATH for ``srun`` alone: the executor's job step drops every
        ``SLURM_*`` variable before it calls srun, so srun would look for the cluster-wide
        ``/etc/slurm/slurm.conf``, which this test cluster does not write.
        """
        path = f"{self.root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        return {"SLURM_CONF": str(self.root / "slurm.conf"), "PATH": path}

    def command(self, *args: str) -> str:
        result = subprocess.run(
            args, capture_output=True, text=True, env={**os.environ, **self.env}, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def idle(self) -> bool:
        env = {**os.environ, **self.env}
        state = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env)
        return state.returncode == 0 and "idle" in state.stdout

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job``: every ``Key=value`` of a job (finished ones for MinJobAge)."""
        fields = self.command("scontrol", "-o", "show", "job", job_id).split()
        return dict(field.split("=", 1) for field in fields if "=" in field)

    def sacct(self) -> list[dict[str, str]]:
        """Every finished job, from the completion log: JobID, JobName, State, ExitCode, ..."""
        fields = "JobID,JobName,Partition,State,ExitCode,Elapsed,NodeList"
        lines = self.command("sacct", "--completion", "-P", f"--format={fields}").splitlines()
        header = lines[0].split("|")
        return [dict(zip(header, line.split("|"))) for line in lines[1:]]

    def stop(self) -> None:
        """Stop the daemons this cluster started (by their pid files), newest first."""
        for name in reversed(DAEMONS):
            pid_file = self.root / f"{name}.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
                except (ProcessLookupError, ValueError):
                    pass


def slurm_conf(root: Path, node: str, ports: list[int], cpus: int, memory_mb: int) -> str:
    return f"""\
ClusterName=mnistbench-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/jobcomp.txt
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
ReturnToService=2
MpiDefault=none
GresTypes=gpu
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} Gres={GPU} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def start(root: Path, memory_mb: int = 8000) -> Cluster:
    """Start munged, slurmctld and slurmd with their state in ``root``; wait for an idle node."""
    root.mkdir(parents=True, exist_ok=True)
    for folder in ("state", "spool"):
        (root / folder).mkdir(exist_ok=True)
    node = socket.gethostname().split(".")[0]
    conf = slurm_conf(root, node, free_ports(2), os.cpu_count() or 1, memory_mb)
    (root / "slurm.conf").write_text(conf)
    (root / "gres.conf").write_text(f"NodeName={node} Name=gpu Type={GPU_MODEL} File=/dev/null\n")
    (root / "bin").mkdir(exist_ok=True)
    srun = root / "bin" / "srun"
    srun.write_text(f'#!/bin/sh\nSLURM_CONF={root}/slurm.conf exec {daemon("srun")} "$@"\n')
    srun.chmod(0o755)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    cluster = Cluster(root, node)
    env = {**os.environ, **cluster.env}
    munged = [daemon("munged"), "--force", f"--socket={root}/munge.socket", f"--key-file={key}"]
    munged += [f"--pid-file={root}/munged.pid", f"--log-file={root}/munged.log"]
    munged += [f"--seed-file={root}/munged.seed"]
    try:
        for command in (munged, [daemon("slurmctld"), "-i"], [daemon("slurmd")]):
            subprocess.run(command, check=True, env=env, capture_output=True, timeout=60)
        deadline = time.monotonic() + 60
        while not cluster.idle():
            assert time.monotonic() < deadline, (root / "slurmctld.log").read_text()[-2000:]
            time.sleep(0.5)
    except BaseException:
        cluster.stop()
        raise
    return cluster
