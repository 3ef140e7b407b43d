"""A training step stopped by SIGTERM or SIGKILL resumes from its checkpoint, bit for bit.

Each case trains ``mnn`` (Adam: weights and optimiser state must both survive) as the workflow
does, with a checkpoint folder, stops the process after its first checkpoint, runs the same
command again and compares weights, history and metrics with an uninterrupted run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistbench.plugin.registry import load_backends
from mnistbench.training import checkpoint, epochs
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS
from tests.cli import run_cli

pytestmark = pytest.mark.slow
HPARAMS = {"epochs": 30, "batch_size": 16}  # ~60 steps an epoch: many epochs to land a kill in
LIMITS = ["--train-limit", "1000", "--test-limit", "300"]
# What may differ between a resumed run and an uninterrupted one: times, memory, attempts, and
# the machine's load and memory at the job's start and end.
TIMING = {"train_seconds", "samples_per_second", "attempts", "lost_seconds", "peak_rss_mb"}
TIMING |= {"train_memory_mb", "load"}
TIMING |= {"predict_seconds", "predict_samples_per_second", "seconds_outside_training"}


def train_command(data: Path, out: Path, backend: str, hparams=HPARAMS, **folders) -> list[str]:
    """``python -m mnistbench train`` for mnn, seed 0, logging to ``out.log``."""
    args = [sys.executable, "-m", "mnistbench", "--log", f"{out}.log", "train"]
    args += ["--data", str(data), "--dataset", "mnist", "--variant", "mnn", "--seed", "0"]
    args += ["--backend", backend, "--hparams", json.dumps(hparams), "--out", str(out), *LIMITS]
    if "checkpoint" in folders:
        args += ["--checkpoint", str(folders["checkpoint"])]
    return args


def train(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(train_command(*args, **kwargs), capture_output=True, text=True)


def start_and_stop_after_first_epoch(command: list[str], log: Path, signum: int):
    """Start ``command``, send ``signum`` once its log shows the first epoch (saved by then)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while "epoch 1/" not in (log.read_text() if log.exists() else ""):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "no epoch finished within 120 s"
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def evaluate(data: Path, run: Path) -> dict:
    result = run_cli("evaluate", "--data", str(data), "--run", str(run))
    assert result.returncode == 0, result.stderr
    return json.loads((run / "metrics.json").read_text())


def assert_same_results(expected: Path, actual: Path, data: Path) -> None:
    """Weights, history (but its times) and metrics (but times) bit for bit equal."""
    runs = (expected, actual)
    with np.load(expected / "weights.npz") as a, np.load(actual / "weights.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_array_equal(b[name], a[name], err_msg=name)
    history = [
        pd.read_csv(run / "history.csv").drop(columns="seconds") for run in (expected, actual)
    ]
    pd.testing.assert_frame_equal(history[1], history[0], check_exact=True)
    metrics = [evaluate(data, run) for run in runs]
    assert {k: v for k, v in metrics[1].items() if k not in TIMING} == {
        k: v for k, v in metrics[0].items() if k not in TIMING
    }


@pytest.fixture(scope="module")
def reference(sample_dir, tmp_path_factory):
    """Uninterrupted runs without checkpoints, per backend."""
    runs = {}
    for backend in ("numpy", "torch"):
        out = tmp_path_factory.mktemp("reference") / backend
        result = train(sample_dir, out, backend)
        assert result.returncode == 0, result.stderr
        runs[backend] = out
    return runs


@pytest.fixture(
    scope="module",
    params=[(b, s) for b in ("numpy", "torch") for s in (signal.SIGTERM, signal.SIGKILL)],
    ids=lambda p: f"{p[0]}-{p[1].name}",
)
def stopped(request, sample_dir, tmp_path_factory):
    """A run stopped by a signal after its first checkpoint, and the same command run again."""
    backend, signum = request.param
    work = tmp_path_factory.mktemp("stopped")
    out, folder = work / "run", work / "checkpoint"
    command = train_command(sample_dir, out, backend, checkpoint=folder)
    status, stderr = start_and_stop_after_first_epoch(command, Path(f"{out}.log"), signum)
    kept = (folder / checkpoint.FILE).exists()
    again = subprocess.run(command, capture_output=True, text=True)
    return {"backend": backend, "signal": signum, "status": status, "stderr": stderr,
            "kept": kept, "again": again, "out": out, "folder": folder}  # fmt: skip


def test_the_stopped_step_keeps_its_checkpoint(stopped):
    assert stopped["kept"]


def test_sigterm_exits_143_with_one_line_naming_the_checkpoint_and_sigkill_kills(stopped):
    if stopped["signal"] == signal.SIGKILL:
        assert stopped["status"] == -signal.SIGKILL
        return
    assert stopped["status"] == 128 + signal.SIGTERM
    last = stopped["stderr"].strip().splitlines()[-1]
    assert last.startswith("mnistbench train: error: stopped by SIGTERM in epoch ")
    assert last.endswith("checkpoint.npz; run again to resume")


def test_the_run_again_resumes_and_ends_as_an_uninterrupted_run(stopped, reference, sample_dir):
    assert stopped["again"].returncode == 0, stopped["again"].stderr
    assert "resuming from" in stopped["again"].stderr
    assert_same_results(reference[stopped["backend"]], stopped["out"], sample_dir)


def test_the_resumed_run_counts_both_attempts_and_removes_its_checkpoint(stopped):
    info = json.loads((stopped["out"] / "train.json").read_text())
    assert info["attempts"] == 2
    history = pd.read_csv(stopped["out"] / "history.csv")
    assert info["train_seconds"] == pytest.approx(history["seconds"].sum() + info["lost_seconds"])
    if stopped["signal"] == signal.SIGTERM:  # the time of the interrupted epoch is known
        assert info["lost_seconds"] > 0
    assert not stopped["folder"].exists()


def test_a_checkpoint_made_with_other_hyperparameters_is_discarded(sample_dir, tmp_path):
    out, folder = tmp_path / "run", tmp_path / "checkpoint"
    command = train_command(sample_dir, out, "numpy", checkpoint=folder)
    status, _ = start_and_stop_after_first_epoch(command, Path(f"{out}.log"), signal.SIGTERM)
    assert status != 0 and (folder / checkpoint.FILE).exists()
    changed = train(sample_dir, out, "numpy", {**HPARAMS, "lr": 0.002}, checkpoint=folder)
    assert changed.returncode == 0, changed.stderr
    assert "made for other settings" in changed.stderr and "resuming" not in changed.stderr
    assert json.loads((out / "train.json").read_text())["attempts"] == 1
    assert len(pd.read_csv(out / "history.csv")) == HPARAMS["epochs"]


def test_an_unreadable_checkpoint_is_discarded(tmp_path):
    (tmp_path / checkpoint.FILE).write_bytes(b"not a zip file")
    assert checkpoint.load(tmp_path, "anything") is None
    assert not tmp_path.exists()


def test_without_a_checkpoint_folder_sigterm_is_still_one_line(sample_dir, tmp_path):
    out = tmp_path / "run"
    command = train_command(sample_dir, out, "numpy")
    status, stderr = start_and_stop_after_first_epoch(command, Path(f"{out}.log"), signal.SIGTERM)
    assert status == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1].endswith("nothing kept (no checkpoint folder)")
    assert not out.exists() or not any(out.iterdir())


def test_a_run_stopped_after_its_last_epoch_resumes_to_the_same_model_without_training(
    mnist_slice, tmp_path
):
    x, y = mnist_slice
    variant = VARIANTS["mnn"]
    images = (x * 255).astype(np.uint8).reshape(-1, 28, 28)
    spec = build_spec(variant, variant.hyperparameters(variant.small), images, y, 0, "cpu")
    backend = load_backends().get("numpy")
    first, saved = epochs.train_with_checkpoints(backend, spec, x, y, tmp_path, "fingerprint")
    assert saved.epoch == len(spec.epochs)  # the step removes it only once its outputs exist
    again, resumed = epochs.train_with_checkpoints(backend, spec, x, y, tmp_path, "fingerprint")
    assert resumed.attempts == 2
    assert again.history == first.history
    for name, value in first.weights.items():
        np.testing.assert_array_equal(again.weights[name], value)
