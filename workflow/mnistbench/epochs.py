"""Driving a backend through its epochs: timing, scoring, checkpoints and stop signals.

:func:`fit` times each epoch (the time spent inside the backend's iterator) and scores it on
the test set between epochs (not timed). :func:`train_with_checkpoints` adds what makes a run
survive a cluster: a checkpoint after every epoch (:mod:`mnistbench.checkpoint`), resuming from
one, and stopping at once on SIGTERM or SIGINT with the progress kept.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistbench import checkpoint
from mnistbench.backend import Backend, EpochResult, TrainSpec, Weights, is_resumable
from mnistbench.checkpoint import Checkpoint
from mnistbench.errors import MnistbenchError

log = logging.getLogger(__name__)
History = list[dict[str, float]]  # one row per finished epoch, the columns of history.csv


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores, axis=1) == labels))


@dataclass
class TrainedModel:
    weights: Weights
    history: History

    @property
    def train_seconds(self) -> float:
        return float(sum(row["seconds"] for row in self.history))

    @property
    def samples(self) -> int:
        return int(sum(row["samples"] for row in self.history))


class Interrupted(BaseException):
    """A stop signal arrived. A BaseException, so no ``except Exception`` in a backend eats it."""

    epoch: int | None = None  # the epoch (0-based) in progress, if one was
    unsaved_seconds = 0.0  # training time spent since the last checkpoint

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal = signal.Signals(signum).name


# SIGTERM: what SLURM sends on preemption and at a job's time limit (SIGKILL follows after its
# KillWait), and what Snakemake's jobs get when a cluster job is cancelled. SIGINT: Ctrl-C,
# which a terminal sends to Snakemake and its local jobs alike.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM or SIGINT raises :class:`Interrupted` in the main thread.

    Python runs the handler between bytecodes, so a backend stops within one operation, or, for
    a backend that runs an epoch as one compiled call (JAX), after that call. A second signal
    ends the process at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        for stop in STOP_SIGNALS:
            signal.signal(stop, signal.SIG_DFL)
        raise Interrupted(signum)

    previous = {stop: signal.signal(stop, interrupt) for stop in STOP_SIGNALS}
    try:
        yield
    except Interrupted as stop:  # outside the epochs (loading data, writing outputs)
        raise MnistbenchError(f"stopped by {stop.signal}; run again to finish") from None
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def fit(
    backend: Backend,
    spec: TrainSpec,
    x_test: np.ndarray,
    y_test: np.ndarray,
    history: History | None = None,
    on_epoch: Callable[[EpochResult, History], None] | None = None,
) -> TrainedModel:
    """Drive the backend's training iterator, timing each epoch and scoring it on the test set.

    Training starts at ``spec.start_epoch`` after the rows of ``history``; ``on_epoch(result,
    history)`` runs after each epoch (the train step saves its checkpoint there).
    """
    history, weights = list(history or []), dict(spec.initial_weights)
    iterator = iter(backend.train(spec))
    for epoch in range(spec.start_epoch, len(spec.epochs)):
        start, seconds = time.perf_counter(), None
        try:
            try:
                result = next(iterator)
            except StopIteration:
                raise MnistbenchError(
                    f"backend {backend.name!r} stopped after {epoch} of {len(spec.epochs)} epochs"
                ) from None
            seconds = time.perf_counter() - start
            weights = result.weights
            scores = backend.predict(
                spec.variant, spec.hyperparameters, weights, x_test, spec.device
            )
            row = {
                "epoch": epoch + 1,
                "train_loss": float(np.mean(result.losses)),
                "test_accuracy": accuracy(scores, y_test),
                "seconds": seconds,
                "samples": len(spec.epochs[epoch]),
            }
            history.append(row)
            if on_epoch:
                on_epoch(result, history)
        except Interrupted as stop:
            stop.epoch = epoch
            stop.unsaved_seconds = time.perf_counter() - start if seconds is None else seconds
            raise
        log.info(
            "epoch %d/%d: train loss %.4f, test accuracy %.4f, %.2f s",
            row["epoch"],
            len(spec.epochs),
            row["train_loss"],
            row["test_accuracy"],
            seconds,
        )
    return TrainedModel(weights, history)


def train_with_checkpoints(
    backend: Backend,
    spec: TrainSpec,
    x_test: np.ndarray,
    y_test: np.ndarray,
    folder: Path | None,
    fingerprint: str,
) -> tuple[TrainedModel, Checkpoint]:
    """:func:`fit`, resuming from the checkpoint in ``folder`` made for ``fingerprint`` if there
    is one, and saving one there after every epoch; return the model and the final progress.

    Without ``folder``, or for a backend that cannot resume, nothing is saved.
    """
    if folder and not is_resumable(backend):
        log.info("backend %r cannot resume: no checkpoints", backend.name)
        folder = None
    latest = checkpoint.load(folder, fingerprint) if folder else None
    if latest:
        latest.attempts += 1
        log.info(
            "resuming from %s: %d of %d epochs done; attempt %d",
            folder,
            latest.epoch,
            len(spec.epochs),
            latest.attempts,
        )
        spec = dataclasses.replace(
            spec,
            start_epoch=latest.epoch,
            initial_weights=latest.weights,
            initial_state=latest.state,
        )
    else:
        latest = Checkpoint(fingerprint, 0, dict(spec.initial_weights), {})

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
        model = fit(backend, spec, x_test, y_test, latest.history, save)
    except Interrupted as stop:
        latest.lost_seconds += stop.unsaved_seconds
        kept = "nothing kept (no checkpoint folder)"
        if folder:
            path = checkpoint.save(folder, latest)
            kept = f"{latest.epoch} epochs kept in {path}; run again to resume"
        epoch = latest.epoch if stop.epoch is None else stop.epoch
        raise MnistbenchError(
            f"stopped by {stop.signal} in epoch {epoch + 1} of {len(spec.epochs)}: {kept}"
        ) from None
    return model, latest
