"""JAX's persistent compilation cache: the train step keeps the programs it compiles, and a job
that loads them back trains exactly as one that compiles them itself."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("jax")


def train(sample_dir, out, environment) -> bytes:
    """The train command, as a workflow job runs it, in a process of its own; its weights."""
    command = [sys.executable, "-m", "mnistbench", "train", "--threads", "1"]
    command += ["--data", str(sample_dir), "--dataset", "mnist-sample", "--variant", "mlp"]
    command += ["--backend", "jax", "--seed", "0", "--out", str(out), "--train-limit", "64"]
    command += ["--test-limit", "32", "--hparams", '{"epochs": 2, "hidden": 16}']
    subprocess.run(command, check=True, env={**os.environ, **environment})
    return (out / "weights.npz").read_bytes()


def test_compiled_programs_are_kept_and_reused_to_the_same_weights(sample_dir, tmp_path):
    cache = tmp_path / "cache"
    kept = {"JAX_COMPILATION_CACHE_DIR": str(cache)}

    first = train(sample_dir, tmp_path / "first", kept)
    entries = sorted(p.name for p in cache.iterdir())
    again = train(sample_dir, tmp_path / "again", kept)
    compiled = train(sample_dir, tmp_path / "off", {"JAX_ENABLE_COMPILATION_CACHE": "false"})

    assert any(name.startswith("jit__epoch") for name in entries)  # the epoch's scan is kept
    assert sorted(p.name for p in cache.iterdir()) == entries  # the second job compiled nothing new
    assert first == again == compiled
