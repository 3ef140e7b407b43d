"""Snakemake killed mid-run, then run again with ``--rerun-incomplete``: the training jobs that
were stopped resume from their checkpoints and the results equal an uninterrupted run's.

The DAG is one variant with optimiser state (``mnn``, Adam) on both built-in backends, long
enough (60 short epochs) that both training jobs are mid-run when the kill comes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import SAMPLE_DATASET
from tests.workflow.runner import SAMPLE_CONFIG, SNAKEMAKE, copy_workflow, run_snakemake

pytestmark = pytest.mark.slow
BACKENDS = ("numpy", "torch")
EXPERIMENT = {
    "variants": ["mnn"],
    "backends": list(BACKENDS),
    "hyperparameters": {"mnn": {"epochs": 60, "batch_size": 16}},
    "subset": {"train": 1000, "test": 300},
}
CONFIGS = ["config/quick.yaml", SAMPLE_CONFIG, "extra.yaml"]
TIMES = ["train_seconds", "samples_per_second", "attempts", "predict_seconds"]
TIMES += ["predict_samples_per_second", "peak_rss_mb", "train_memory_mb", "job_wall_seconds"]
TIMES += ["setup_seconds"]


def workflow_copy(root: Path) -> Path:
    work = copy_workflow(root)
    (work / "extra.yaml").write_text(yaml.safe_dump(EXPERIMENT))
    return work


def run_dir(work: Path, backend: str) -> Path:
    return work / "results" / SAMPLE_DATASET / "mnn" / backend / "default" / "seed0"


def train_log(work: Path, backend: str) -> Path:
    return work / "logs" / "train" / SAMPLE_DATASET / "mnn" / backend / "default" / "seed0.log"


def kill_once_every_training_job_has_a_checkpoint(work: Path, signum: int) -> set[str]:
    """Start Snakemake in its own process group; once each training job has logged an epoch
    (its checkpoint is saved by then), send ``signum`` to the whole group, as a node going down
    or a cancelled allocation would. Return the backends whose runs were unfinished then."""
    environ = {k: v for k, v in os.environ.items() if k != "MNISTBENCH_MIRROR"}
    command = [str(SNAKEMAKE), "--cores", "2", "--configfile", *CONFIGS]
    process = subprocess.Popen(
        command, cwd=work, env=environ, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    logs = [train_log(work, backend) for backend in BACKENDS]
    while not all(log.exists() and "epoch 1/" in log.read_text() for log in logs):
        assert process.poll() is None, "Snakemake ended before both training jobs began"
        assert time.monotonic() < deadline, "no training epoch within 300 s"
        time.sleep(0.05)
    os.killpg(process.pid, signum)
    process.wait(timeout=120)
    time.sleep(1)  # let the jobs' own handlers finish writing
    return {b for b in BACKENDS if not (run_dir(work, b) / "train.json").exists()}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    work = workflow_copy(tmp_path_factory.mktemp("uninterrupted"))
    result = run_snakemake(work, configfiles=["extra.yaml"])
    assert result.returncode == 0, result.stderr[-3000:]
    return work


@pytest.fixture(scope="module", params=[signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def resumed(request, tmp_path_factory):
    """A workflow killed mid-training, unlocked, then run again with --rerun-incomplete."""
    work = workflow_copy(tmp_path_factory.mktemp(f"killed-{request.param.name}"))
    stopped = kill_once_every_training_job_has_a_checkpoint(work, request.param)
    # What a user does after a kill: a SIGKILLed Snakemake leaves its lock behind.
    assert run_snakemake(work, "--unlock", configfiles=["extra.yaml"]).returncode == 0
    again = run_snakemake(work, "--rerun-incomplete", configfiles=["extra.yaml"])
    return {"work": work, "stopped": stopped, "again": again, "signal": request.param}


def test_the_kill_came_while_training_ran(resumed):
    assert resumed["stopped"], "every run had finished before the kill: nothing was tested"


def test_the_rerun_succeeds(resumed):
    assert resumed["again"].returncode == 0, resumed["again"].stderr[-3000:]


def test_the_stopped_runs_resumed_in_a_second_attempt(resumed):
    for backend in BACKENDS:
        info = json.loads((run_dir(resumed["work"], backend) / "train.json").read_text())
        assert info["attempts"] == (2 if backend in resumed["stopped"] else 1), backend
    assert not (resumed["work"] / "checkpoints").exists()


def test_weights_and_summary_equal_the_uninterrupted_run(resumed, uninterrupted):
    for backend in BACKENDS:
        files = [
            run_dir(work, backend) / "weights.npz" for work in (uninterrupted, resumed["work"])
        ]
        with np.load(files[0]) as expected, np.load(files[1]) as actual:
            for name in expected.files:
                np.testing.assert_array_equal(actual[name], expected[name], err_msg=backend)
    tables = [
        pd.read_csv(work / "results" / "summary.csv").drop(columns=TIMES)
        for work in (uninterrupted, resumed["work"])
    ]
    pd.testing.assert_frame_equal(tables[1], tables[0], check_exact=True)
