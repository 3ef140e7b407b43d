"""The train step: one (dataset, variant, backend, seed) run, from verified data to saved weights.

    python -m mnistbench train --data resources/mnist --variant mlp --backend numpy --seed 0 \\
        --out results/mnist/mlp/numpy/seed0

The core fixes what must match across backends (scaled inputs, initial weights, sample order,
masks); the backend trains; the core times each epoch (the time spent inside the backend's
iterator), evaluates test accuracy between epochs (not timed), and writes ``weights.npz``,
``history.csv`` and ``train.json``.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench import artifacts, datasets, provenance
from mnistbench.backend import Backend, TrainSpec, Weights
from mnistbench.errors import MnistbenchError
from mnistbench.plugins import load_backends
from mnistbench.variants import Variant, get_variant, random_streams

log = logging.getLogger(__name__)
HISTORY_COLUMNS = ["epoch", "train_loss", "test_accuracy", "seconds", "samples"]


def resolve_device(backend: Backend, requested: str) -> str:
    """``auto`` -> the backend's preferred device; otherwise check the device is usable here."""
    usable = backend.devices()
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
    history: list[dict[str, float]]

    @property
    def train_seconds(self) -> float:
        return float(sum(row["seconds"] for row in self.history))

    @property
    def samples(self) -> int:
        return int(sum(row["samples"] for row in self.history))


def fit(
    backend: Backend,
    spec: TrainSpec,
    x_test: np.ndarray,
    y_test: np.ndarray,
) -> TrainedModel:
    """Drive the backend's training iterator, timing each epoch and scoring it on the test set."""
    history, weights = [], dict(spec.initial_weights)
    iterator = iter(backend.train(spec))
    for epoch in range(len(spec.epochs)):
        start = time.perf_counter()
        try:
            result = next(iterator)
        except StopIteration:
            raise MnistbenchError(
                f"backend {backend.name!r} stopped after {epoch} of {len(spec.epochs)} epochs"
            ) from None
        seconds = time.perf_counter() - start
        weights = result.weights
        scores = backend.predict(spec.variant, spec.hyperparameters, weights, x_test, spec.device)
        row = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(result.losses)),
            "test_accuracy": accuracy(scores, y_test),
            "seconds": seconds,
            "samples": len(spec.epochs[epoch]),
        }
        history.append(row)
        log.info(
            "epoch %d/%d: train loss %.4f, test accuracy %.4f, %.2f s",
            row["epoch"],
            len(spec.epochs),
            row["train_loss"],
            row["test_accuracy"],
            seconds,
        )
    return TrainedModel(weights, history)


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
) -> dict[str, Any]:
    """Train one run and write its outputs into ``out``; return what ``train.json`` holds."""
    the_variant = get_variant(variant)
    hp = the_variant.hyperparameters(hyperparameters)
    the_backend = load_backends().get(backend)
    if variant not in the_backend.variants:
        raise MnistbenchError(f"backend {backend!r} does not implement variant {variant!r}")
    resolved = resolve_device(the_backend, device)
    data_set = datasets.load(data, n_classes, train_limit, test_limit)
    spec = build_spec(the_variant, hp, data_set.train_images, data_set.train_labels, seed, resolved)
    x_test = the_variant.prepare_inputs(data_set.test_images, hp)
    log.info(
        "training %s on %s with %s (%s), seed %d, %d samples",
        variant,
        dataset,
        backend,
        resolved,
        seed,
        len(spec.x_train),
    )
    model = fit(the_backend, spec, x_test, data_set.test_labels.astype(np.int64))

    info = {
        "dataset": dataset,
        "variant": variant,
        "backend": backend,
        "backend_version": the_backend.version,
        "seed": seed,
        "device": resolved,
        "n_classes": n_classes,
        "hyperparameters": hp,
        "train_samples": len(spec.x_train),
        "test_samples": len(x_test),
        "train_limit": train_limit,  # the first N images only (config subset); None: all
        "test_limit": test_limit,
        "epochs": len(model.history),
        "train_seconds": model.train_seconds,
        "samples_per_second": model.samples / model.train_seconds,
        "final_train_loss": model.history[-1]["train_loss"],
        "peak_rss_mb": provenance.peak_rss_mb(),
        "project": provenance.project(),
        "versions": provenance.versions(),
        "machine": provenance.machine(resolved),
        "data_sha256": data_set.sha256,
    }
    out = Path(out)
    artifacts.save_weights(out / "weights.npz", model.weights)
    artifacts.write_atomically(out / "history.csv", lambda p: _write_history(p, model.history))
    artifacts.write_json(out / "train.json", info)
    return info


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
