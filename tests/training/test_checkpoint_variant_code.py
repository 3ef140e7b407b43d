"""A checkpoint belongs to the variant code it was made under: the train step discards one made
before a variant plugin's code changed, as the workflow re-runs such a run.

The variant is a plugin installed by hand into a folder on ``PYTHONPATH`` (a ``.dist-info`` with
its ``mnistbench.variants`` entry point, and its module): LeNet under the name ``lenet_twin``,
with the lenet plugin's steps, so that the test can edit its code as its author would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mnistbench.training import checkpoint
from tests.plan.test_all_variants import LENET_TWIN, write_variant_distribution
from tests.training.test_resume import start_and_stop_after_first_epoch

pytestmark = pytest.mark.slow
EPOCHS = 20  # 20 short epochs: time to land a stop after the first one
LIMITS = ["--train-limit", "256", "--test-limit", "100"]


def train_command(data: Path, out: Path, folder: Path) -> list[str]:
    """``python -m mnistbench train`` for lenet_twin on NumPy, seed 0, checkpointing to
    ``folder`` and logging to ``out.log``."""
    hparams = {"epochs": EPOCHS, "batch_size": 32}
    args = [sys.executable, "-m", "mnistbench", "--log", f"{out}.log", "train"]
    args += ["--data", str(data), "--dataset", "mnist", "--variant", "lenet_twin", "--seed", "0"]
    args += ["--backend", "numpy", "--hparams", json.dumps(hparams), "--out", str(out), *LIMITS]
    return [*args, "--checkpoint", str(folder)]


@pytest.fixture
def stopped(sample_dir, tmp_path, monkeypatch) -> tuple[list[str], Path, Path]:
    """The run stopped by SIGTERM after its first checkpoint: (command, out, plugin module)."""
    site = tmp_path / "site"
    write_variant_distribution(site, "mnistbench_lenet_twin", "lenet_twin", LENET_TWIN)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    out, folder = tmp_path / "run", tmp_path / "checkpoint"
    command = train_command(sample_dir, out, folder)
    status, _ = start_and_stop_after_first_epoch(command, Path(f"{out}.log"), signal.SIGTERM)
    assert status == 128 + signal.SIGTERM and (folder / checkpoint.FILE).exists()
    return command, out, site / "mnistbench_lenet_twin.py"


def finish(command: list[str], out: Path) -> tuple[str, int]:
    """Run ``command`` to its end: its stderr, and the attempts its train.json counts."""
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(out / "history.csv")) == EPOCHS
    return result.stderr, json.loads((out / "train.json").read_text())["attempts"]


def test_a_checkpoint_made_under_other_variant_plugin_code_is_discarded(stopped):
    command, out, module = stopped
    module.write_text(module.read_text() + "# the author edits the variant\n")
    stderr, attempts = finish(command, out)
    assert "made for other settings" in stderr and "resuming" not in stderr
    assert attempts == 1


def test_the_same_run_under_unchanged_variant_code_resumes(stopped):
    """The control of the case above: nothing edited, the checkpoint is used."""
    command, out, _ = stopped
    stderr, attempts = finish(command, out)
    assert "made for other settings" not in stderr
    assert attempts == 2
