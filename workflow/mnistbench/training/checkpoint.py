"""A training run's checkpoint: everything needed to continue after the job was stopped.

The train step writes one after every epoch, into a folder of its own that is not a Snakemake
output (Snakemake deletes a job's outputs before running it again), and removes it once the run's
outputs are written. It holds the weights and the backend's optimiser state after the last
finished epoch, that epoch's number (the core's sample order and masks are fixed by the seed, so
the epoch number is the whole position in them), the history so far, how many attempts the run
has taken and the training time lost in epochs that were interrupted.

A checkpoint belongs to one exact computation, named by a fingerprint of everything that shapes
the numbers (see :func:`fingerprint`). One made under anything else, or one that cannot be read,
is discarded with a log line and the run starts from its first epoch.

The file is one ``.npz`` (no pickle), written to a temporary name and renamed, so a process
killed while writing leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench import artifacts

log = logging.getLogger(__name__)
FILE = "checkpoint.npz"
FORMAT = 1  # bump when the layout below changes: older checkpoints are then discarded


@dataclass
class Checkpoint:
    """A run's progress after ``epoch`` finished epochs."""

    fingerprint: str
    epoch: int  # epochs finished; training continues with epoch index ``epoch``
    weights: dict[str, np.ndarray]
    state: dict[str, np.ndarray]  # the backend's optimiser state (EpochResult.state)
    history: list[dict[str, float]] = field(default_factory=list)  # one row per finished epoch
    attempts: int = 1  # attempts that have trained this run so far, this one included
    lost_seconds: float = 0.0  # training time spent in epochs that were interrupted


def fingerprint(identity: Mapping[str, Any]) -> str:
    """SHA-256 of ``identity`` (JSON, keys sorted): the computation a checkpoint belongs to."""
    text = json.dumps({"format": FORMAT, **identity}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def save(folder: str | Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``folder/checkpoint.npz``, replacing the previous one at once."""
    meta = {
        "fingerprint": checkpoint.fingerprint,
        "epoch": checkpoint.epoch,
        "history": checkpoint.history,
        "attempts": checkpoint.attempts,
        "lost_seconds": checkpoint.lost_seconds,
    }
    arrays = {f"weights/{k}": np.asarray(v) for k, v in checkpoint.weights.items()}
    arrays.update({f"state/{k}": np.asarray(v) for k, v in checkpoint.state.items()})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez(f, **arrays)

    return artifacts.write_atomically(folder, FILE, write)


def load(folder: str | Path, expected: str) -> Checkpoint | None:
    """The checkpoint in ``folder`` if it was made for ``expected``, else None.

    A checkpoint made for another fingerprint, or one that cannot be read, is deleted with a log
    line saying why, so it is never resumed from.
    """
    path = Path(folder) / FILE
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes())
            parts: dict[str, dict[str, np.ndarray]] = {"weights": {}, "state": {}}
            for key in archive.files:
                kind, _, name = key.partition("/")
                if kind in parts:
                    parts[kind][name] = archive[key]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("checkpoint %s cannot be read (%s): discarded, starting over", path, error)
        remove(folder)
        return None
    if meta.get("fingerprint") != expected:
        log.warning(
            "checkpoint %s was made for other settings (hyperparameters, data, code, backend "
            "version, seed or device): discarded, starting over",
            path,
        )
        remove(folder)
        return None
    return Checkpoint(
        fingerprint=expected,
        epoch=int(meta["epoch"]),
        weights=parts["weights"],
        state=parts["state"],
        history=list(meta["history"]),
        attempts=int(meta["attempts"]),
        lost_seconds=float(meta["lost_seconds"]),
    )


def remove(folder: str | Path) -> None:
    """Delete the checkpoint in ``folder``, then ``folder`` and its parents while they are empty
    (as far up as the path given goes: ``checkpoints/`` for the workflow's relative paths)."""
    folder = Path(folder)
    (folder / FILE).unlink(missing_ok=True)
    try:
        os.removedirs(folder)
    except OSError:  # absent, or holds something that is not ours
        pass
