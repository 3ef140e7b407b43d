"""The train step: one (dataset, variant, backend, seed) run, from verified data to saved weights.

    python -m mnistbench train --data resources/mnist --variant mlp --backend numpy --seed 0 \\
        --out results/mnist/mlp/numpy/seed0

The core fixes what must match across backends (scaled inputs, initial weights, sample order,
masks); the backend trains; the core times each epoch (the time spent inside the backend's
iterator), evaluates test accuracy between epochs (not timed), and writes ``weights.npz``,
``history.csv`` and ``train.json``.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench import artifacts, datasets, npz, provenance
from mnistbench.backend import Backend, TrainSpec, Weights
from mnistbench.errors import MnistbenchError
from mnistbench.plugins import backend_errors, load_backends
from mnistbench.variants import Variant, get_variant, random_streams

log = logging.getLogger(__name__)
HISTORY_COLUMNS = ["epoch", "train_loss", "test_accuracy", "seconds", "samples"]


def resolve_device(backend: Backend, requested: str) -> str:
    """``auto`` -> the backend's preferred device; otherwise check the device is usable here."""
    with backend_errors(backend.name, "devices"):
        usable = list(backend.devices())
    if requested == "auto":
        return usable[0]
    if requested not in usable:
        raise MnistbenchError(
            f"backend {backend.name!r}: device {requested!r} is not available here "
            f"(available: {', '.join(usable)})"
        )
    return requested


def build_spec(
    variant: Variant,
    hyperparameters: Mapping[str, Any],
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    device: str,
) -> TrainSpec:
    """Everything the backend needs, made by the core from ``seed`` alone."""
    init_rng, order_rng, mask_rng = random_streams(seed)
    plan = variant.plan(order_rng, mask_rng, len(images), hyperparameters)
    return TrainSpec(
        variant=variant.name,
        hyperparameters=dict(hyperparameters),
        initial_weights=variant.initial_weights(init_rng, hyperparameters),
        x_train=variant.prepare_inputs(images, hyperparameters),
        y_train=labels.astype(np.int64),
        epochs=plan.epochs,
        batch_size=plan.batch_size,
        device=device,
        extras=plan.extras,
    )


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores, axis=1) == labels))


@dataclass
class TrainedModel:
    weights: Weights
    history: list[dict[str, Any]]
    # Where the loss first went NaN or infinite, both counted from 1: {"epoch": E, "step": S}.
    diverged: dict[str, int] | None = None

    @property
    def train_seconds(self) -> float:
        return float(sum(row["seconds"] for row in self.history))

    @property
    def samples(self) -> int:
        return int(sum(row["samples"] for row in self.history))


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
) -> TrainedModel:
    """Drive the backend's training iterator, timing each epoch and scoring it on the test set.

    A loss (or weights) gone NaN or infinite stops training after that epoch: the run is
    recorded as diverged, and its last epoch gets no test accuracy (argmax of NaN reads as
    class 0, which would pass for a result).
    """
    history, weights, diverged = [], dict(spec.initial_weights), None
    with backend_errors(backend.name, "train"):
        iterator = iter(backend.train(spec))
    try:
        for epoch in range(len(spec.epochs)):
            start = time.perf_counter()
            with backend_errors(backend.name, "train"):
                try:
                    result = next(iterator)
                except StopIteration:
                    raise MnistbenchError(
                        f"backend {backend.name!r} stopped after {epoch} of "
                        f"{len(spec.epochs)} epochs"
                    ) from None
                seconds = time.perf_counter() - start
                losses = np.asarray(result.losses, dtype=np.float64).reshape(-1)
                weights = dict(result.weights)
            _check_layout(backend, spec, weights)
            row = {
                "epoch": epoch + 1,
                "train_loss": float(np.mean(losses)) if losses.size else float("nan"),
                "test_accuracy": None,
                "seconds": seconds,
                "samples": len(spec.epochs[epoch]),
            }
            history.append(row)
            diverged = divergence(epoch, losses, weights)
            if diverged is None:
                with backend_errors(backend.name, "predict"):
                    scores = np.asarray(
                        backend.predict(
                            spec.variant, spec.hyperparameters, weights, x_test, spec.device
                        ),
                        float,
                    )
                if np.isfinite(scores).all():
                    row["test_accuracy"] = accuracy(scores, y_test)
                else:
                    diverged = {"epoch": epoch + 1, "step": len(losses)}
            if diverged:
                log.warning(
                    "diverged: loss or weights not finite at epoch %d, step %d; training stopped",
                    diverged["epoch"],
                    diverged["step"],
                )
                break
            log.info(
                "epoch %d/%d: train loss %.4f, test accuracy %.4f, %.2f s",
                row["epoch"],
                len(spec.epochs),
                row["train_loss"],
                row["test_accuracy"],
                seconds,
            )
    finally:
        with contextlib.suppress(Exception):  # a backend's clean-up error must not hide the cause
            getattr(iterator, "close", lambda: None)()
    return TrainedModel(weights, history, diverged)


def run(
    *,
    data: str | Path,
    dataset: str,
    variant: str,
    backend: str,
    seed: int,
    out: str | Path,
    hyperparameters: Mapping[str, Any] | None = None,
    device: str = "auto",
    n_classes: int = 10,
    train_limit: int | None = None,
    test_limit: int | None = None,
    sha256: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Train one run and write its outputs into ``out``; return what ``train.json`` holds.

    ``sha256`` maps data roles to their pinned digests: a data file that differs is refused.
    Every check that can fail (variant, hyperparameters, backend, device, output folder, data,
    memory) runs before training starts; the three outputs are written together or not at all.
    """
    the_variant = get_variant(variant)
    hp = the_variant.hyperparameters(hyperparameters)
    the_backend = load_backends().get(backend)
    if variant not in the_backend.variants:
        raise MnistbenchError(f"backend {backend!r} does not implement variant {variant!r}")
    resolved = resolve_device(the_backend, device)
    with artifacts.output_folder(out) as out:
        data_set = datasets.load(data, n_classes, train_limit, test_limit, sha256)
        n_train = len(data_set.train_images)
        the_variant.check_fits(hp, n_train, provenance.memory_limit_bytes())
        spec = build_spec(
            the_variant, hp, data_set.train_images, data_set.train_labels, seed, resolved
        )
        x_test = the_variant.prepare_inputs(data_set.test_images, hp)
        log.info(
            "training %s on %s with %s (%s), seed %d, %d samples",
            variant,
            dataset,
            backend,
            resolved,
            seed,
            n_train,
        )
        model = fit(the_backend, spec, x_test, data_set.test_labels.astype(np.int64))
        info = {
            "dataset": dataset,
            "variant": variant,
            "backend": backend,
            "backend_version": the_backend.version,
            "seed": seed,
            "status": "diverged" if model.diverged else "ok",
            "diverged": model.diverged,
            "device": resolved,
            "n_classes": n_classes,
            "hyperparameters": hp,
            "train_samples": n_train,
            "test_samples": len(x_test),
            "epochs": len(model.history),
            "train_seconds": model.train_seconds,
            "samples_per_second": model.samples / model.train_seconds,
            "final_train_loss": model.history[-1]["train_loss"],
            "peak_rss_mb": provenance.peak_rss_mb(),
            "versions": provenance.versions(),
            "machine": provenance.machine(resolved),
            "data_sha256": data_set.sha256,
        }
        artifacts.write_all(
            out,
            {
                "weights.npz": npz.writer(model.weights),
                "history.csv": lambda p: _write_history(p, model.history),
                "train.json": artifacts.json_file(info),
            },
        )
    return info


def _write_history(path: Path, history: list[dict[str, Any]]) -> None:
    """One row per epoch; a diverged epoch's test accuracy is left empty."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
