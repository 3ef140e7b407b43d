"""Driving a backend through its epochs: timing, scoring, divergence, checkpoints, stopping.

:func:`fit` sets the backend up (not timed), times each epoch (the backend's
:meth:`~mnistbench.plugin.backend.Trainer.train_epoch` call, nothing else), checks what it returned
and, after the epochs :func:`scored_epochs` picks for the learning curve, scores it on the test set
(not timed).
:func:`train_with_checkpoints` adds what makes a run survive a cluster: a checkpoint after every
epoch (:mod:`mnistbench.training.checkpoint`), resuming from one, and, when the command is stopped
(SIGTERM, Ctrl-C), keeping the progress and saying where it is.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench.errors import MnistbenchError, Stopped
from mnistbench.plugin.backend import Backend, EpochResult, TrainSpec, Weights, is_resumable
from mnistbench.plugin.registry import backend_errors
from mnistbench.training import checkpoint, provenance
from mnistbench.training.checkpoint import Checkpoint

log = logging.getLogger(__name__)
History = list[dict[str, Any]]  # one row per finished epoch, the columns of history.csv
# The learning curve's points by default: scoring 10,000 test images after each of 100 short
# epochs would cost more than the training it describes.
CURVE_POINTS = 25


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores, axis=1) == labels))


@dataclass
class TrainedModel:
    weights: Weights
    history: History
    # Where the loss first went NaN or infinite, both counted from 1: {"epoch": E, "step": S}.
    diverged: dict[str, int] | None = None
    # Seconds this attempt spent around the timed epochs: the backend's set-up, scoring the test
    # set after each epoch, and the after-epoch callback (the train step's checkpoints).
    outside: dict[str, float] = dataclasses.field(default_factory=dict)
    # MiB: peak resident memory of the epochs (and their scoring) above the process once set up.
    memory_mb: float = float("nan")

    @property
    def train_seconds(self) -> float:
        return float(sum(row["seconds"] for row in self.history))

    @property
    def samples(self) -> int:
        return int(sum(row["samples"] for row in self.history))


def scored_epochs(epochs: int, points: int | None) -> list[int]:
    """The epochs (counted from 1) after which a run of ``epochs`` epochs scores the test set:
    ``points`` of them, evenly spaced, the last always among them (every ``epochs / points``-th,
    rounded up); every epoch where there are no more than ``points``, or ``points`` is None."""
    if points is not None and points < 1:
        raise MnistbenchError(f"curve points: got {points}; expected a whole number >= 1")
    if points is None or points >= epochs:
        return list(range(1, epochs + 1))
    return [-(-i * epochs // points) for i in range(1, points + 1)]


def divergence(epoch: int, losses: np.ndarray, weights: Weights) -> dict[str, int] | None:
    """Where an epoch's training broke down: its first non-finite loss, else (its last step)
    non-finite weights; None if it did not."""
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        return {"epoch": epoch + 1, "step": int(bad[0]) + 1}
    if not all(np.isfinite(np.asarray(w)).all() for w in weights.values()):
        return {"epoch": epoch + 1, "step": len(losses)}
    return None


def _check_layout(backend: Backend, spec: TrainSpec, weights: Weights) -> None:
    expected = {k: np.shape(v) for k, v in spec.initial_weights.items()}
    returned = {k: np.shape(v) for k, v in weights.items()}
    if returned != expected:
        raise MnistbenchError(
            f"backend {backend.name!r} returned weights {returned} for variant "
            f"{spec.variant!r}, which has {expected}"
        )


def fit(
    backend: Backend,
    spec: TrainSpec,
    x_test: np.ndarray,
    y_test: np.ndarray,
    history: History | None = None,
    on_epoch: Callable[[EpochResult, History], None] | None = None,
    curve_points: int | None = None,
) -> TrainedModel:
    """Set the backend up, then train it epoch by epoch, timing each and scoring the epochs
    :func:`scored_epochs` picks for ``curve_points`` (None: every epoch) on the test set; the
    other epochs' rows have no test accuracy. Only
    :meth:`~mnistbench.plugin.backend.Trainer.train_epoch` is timed.

    A loss (or weights) gone NaN or infinite stops training after that epoch: the run is
    recorded as diverged, and its last epoch gets no test accuracy (argmax of NaN reads as
    class 0, which would pass for a result).

    Training starts at ``spec.start_epoch``, after the rows of ``history``; ``on_epoch(result,
    history)`` runs after each sound epoch (the train step saves its checkpoint there). A
    Ctrl-C, or SIGTERM in the command, leaves as :class:`~mnistbench.errors.Stopped` with the
    epoch it stopped in and the training time not yet in a checkpoint.
    """
    history, weights, diverged = list(history or []), dict(spec.initial_weights), None
    outside = dict.fromkeys(["setup", "score", "after_epoch"], 0.0)
    start = time.perf_counter()
    with backend_errors(backend.name, "setup"):
        trainer = backend.setup(spec)
    outside["setup"] = time.perf_counter() - start
    scored = set(scored_epochs(len(spec.epochs), curve_points))
    memory = provenance.memory_baseline()  # imports, compilation and transfers are done
    for epoch in range(spec.start_epoch, len(spec.epochs)):
        start, seconds = time.perf_counter(), None
        test = (x_test, y_test) if epoch + 1 in scored else None
        try:
            result, seconds, row, diverged = _epoch(backend, spec, trainer, epoch, start, test)
            outside["score"] += time.perf_counter() - start - seconds
            history.append(row)
            weights = dict(result.weights)
            if diverged:
                log.warning(
                    "diverged: loss or weights not finite at epoch %d, step %d; training stopped",
                    diverged["epoch"],
                    diverged["step"],
                )
                break
            if on_epoch:
                called = time.perf_counter()
                on_epoch(result, history)
                outside["after_epoch"] += time.perf_counter() - called
        except KeyboardInterrupt as interrupt:
            stop = Stopped.from_interrupt(interrupt)
            stop.epoch = epoch
            stop.unsaved_seconds = time.perf_counter() - start if seconds is None else seconds
            raise stop from None
        score = "not scored" if row["test_accuracy"] is None else f"{row['test_accuracy']:.4f}"
        log.info("epoch %d/%d: train loss %.4f, test accuracy %s, %.2f s", row["epoch"],
                 len(spec.epochs), row["train_loss"], score, seconds)  # fmt: skip
    return TrainedModel(weights, history, diverged, outside, provenance.memory_above(memory))


def _epoch(backend, spec, trainer, epoch, start, test):
    """One epoch from the backend, checked, and scored on ``test`` (images, labels) unless that
    is None: (result, seconds, row, diverged)."""
    with backend_errors(backend.name, "train_epoch"):
        result = trainer.train_epoch(epoch)
        seconds = time.perf_counter() - start
        losses = np.asarray(result.losses, dtype=np.float64).reshape(-1)
        weights = dict(result.weights)
    if losses.size != spec.steps_in_epoch(epoch):
        raise MnistbenchError(
            f"backend {backend.name!r} returned {losses.size} step losses for epoch {epoch + 1}, "
            f"which has {spec.steps_in_epoch(epoch)} steps"
        )
    _check_layout(backend, spec, weights)
    row = {
        "epoch": epoch + 1,
        "train_loss": float(np.mean(losses)) if losses.size else float("nan"),
        "test_accuracy": None,
        "seconds": seconds,
        "samples": len(spec.epochs[epoch]),
    }
    diverged = divergence(epoch, losses, weights)
    if diverged is None and test is not None:
        x_test, y_test = test
        with backend_errors(backend.name, "predict"):
            scores = np.asarray(
                backend.predict(spec.variant, spec.hyperparameters, weights, x_test, spec.device),
                float,
            )
        if np.isfinite(scores).all():
            row["test_accuracy"] = accuracy(scores, y_test)
        else:
            diverged = {"epoch": epoch + 1, "step": len(losses)}
    return result, seconds, row, diverged


def resume(
    backend: Backend, spec: TrainSpec, folder: Path | None, fingerprint: str
) -> tuple[TrainSpec, Checkpoint]:
    """The spec to train from and the progress so far: from the checkpoint in ``folder`` made
    for ``fingerprint`` if there is one (counting this attempt), else from the first epoch."""
    latest = checkpoint.load(folder, fingerprint) if folder else None
    if not latest:
        return spec, Checkpoint(fingerprint, 0, dict(spec.initial_weights), {})
    latest.attempts += 1
    log.info(
        "resuming from %s: %d of %d epochs done; attempt %d",
        folder,
        latest.epoch,
        len(spec.epochs),
        latest.attempts,
    )
    spec = dataclasses.replace(
        spec, start_epoch=latest.epoch, initial_weights=latest.weights, initial_state=latest.state
    )
    return spec, latest


def train_with_checkpoints(
    backend: Backend,
    spec: TrainSpec,
    x_test: np.ndarray,
    y_test: np.ndarray,
    folder: Path | None,
    fingerprint: str,
    curve_points: int | None = None,
) -> tuple[TrainedModel, Checkpoint]:
    """:func:`fit` (scoring the epochs ``curve_points`` picks), resuming from the checkpoint in
    ``folder`` made for ``fingerprint`` if there is one, and saving one there after every epoch;
    return the model and the final progress.

    Without ``folder``, or for a backend that cannot resume, nothing is saved. Stopped by a
    signal, it saves what it has and re-raises :class:`~mnistbench.errors.Stopped` saying so.
    """
    if folder and not is_resumable(backend):
        log.info("backend %r cannot resume: no checkpoints", backend.name)
        folder = None
    spec, latest = resume(backend, spec, folder, fingerprint)

    def save(result: EpochResult, history: History) -> None:
        nonlocal latest
        latest = dataclasses.replace(
            latest,
            epoch=len(history),
            weights=result.weights,
            state=dict(result.state),
            history=list(history),
        )
        if folder:
            checkpoint.save(folder, latest)

    try:
        if folder:  # at once, so this attempt counts even if it dies in its first epoch
            checkpoint.save(folder, latest)
        model = fit(backend, spec, x_test, y_test, latest.history, save, curve_points)
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM in the command (mnistbench.cli)
        stop = Stopped.from_interrupt(interrupt)
        latest.lost_seconds += stop.unsaved_seconds
        kept = "nothing kept (no checkpoint folder)"
        if folder:
            kept = f"{latest.epoch} epochs kept in {checkpoint.save(folder, latest)}; run again"
            kept += " to resume"
        epoch = latest.epoch if stop.epoch is None else stop.epoch
        stop.where = f"in epoch {epoch + 1} of {len(spec.epochs)}: {kept}"
        raise stop from None
    return model, latest
