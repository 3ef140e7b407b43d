"""The train step: one (dataset, variant, backend, seed) run, from verified data to saved weights.

    python -m mnistbench train --data resources/mnist --variant mlp --backend numpy --seed 0 \\
        --out results/mnist/mlp/numpy/default/seed0

The core fixes what must match across backends (scaled inputs, initial weights, sample order,
masks); the backend trains; the core times each epoch (the backend's ``train_epoch`` call,
set-up excluded), evaluates test accuracy after the epochs that make the learning curve (at most
``curve_points`` of them, evenly spaced, the last always; not timed), and writes ``weights.npz``,
``history.csv`` and ``train.json``.

With ``checkpoint`` (a folder; the workflow gives ``checkpoints/<dataset>/<variant>/<backend>/
<point>/seed<N>``) the run saves its progress after every epoch
(:mod:`mnistbench.training.checkpoint`), continues from there when run again, and removes the
checkpoint once its outputs are written. SIGTERM (preemption, a time limit) or SIGINT (Ctrl-C) stops
the command at once with the checkpoint kept and one error line; SIGKILL loses at most the epoch in
progress. A resumed run ends with the same weights and history as an uninterrupted one; only the
times differ.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench import artifacts
from mnistbench.data import datasets
from mnistbench.data.shapes import MNIST, Conventions, Shape
from mnistbench.errors import MnistbenchError
from mnistbench.plan import identity
from mnistbench.plugin import threads as thread_control
from mnistbench.plugin.backend import Backend, TrainSpec, default_implementation, implementations
from mnistbench.plugin.registry import backend_errors, load_backends
from mnistbench.plugin.variant_registry import installed_variants
from mnistbench.training import checkpoint, epochs, provenance, weights_file
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


def resolve_implementation(backend: Backend, variant: str, requested: str | None) -> str:
    """The implementation a run trains with: ``requested`` (from its point), else the first the
    backend offers for the variant; one line where the backend has no such implementation."""
    with backend_errors(backend.name, "implementations"):
        offered = implementations(backend, variant)
    if requested is None and offered:
        return offered[0]
    if requested not in offered:
        raise MnistbenchError(
            f"backend {backend.name!r} has no {requested or 'usable'!r} implementation of variant "
            f"{variant!r} (it has: {', '.join(offered) or 'none'})"
        )
    return requested


def build_spec(
    variant: Variant,
    hyperparameters: Mapping[str, Any],
    images: np.ndarray,
    labels: np.ndarray,
    seed: int,
    device: str,
    shape: Shape = MNIST,
    implementation: str = "tuned",
) -> TrainSpec:
    """Everything the backend needs, made by the core from ``seed`` alone; the weights sized
    for ``shape``, the dataset's image size and classes."""
    init_rng, order_rng, mask_rng = random_streams(seed)
    plan = variant.plan(order_rng, mask_rng, len(images), hyperparameters)
    return TrainSpec(
        variant=variant.name,
        hyperparameters=dict(hyperparameters),
        initial_weights=variant.weights_for(init_rng, hyperparameters, shape),
        x_train=variant.prepare_inputs(images, hyperparameters),
        y_train=labels.astype(np.int64),
        epochs=plan.epochs,
        batch_size=plan.batch_size,
        device=device,
        extras=plan.extras,
        classes=shape.classes,
        implementation=implementation,
    )


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
    conventions: Conventions | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
    sha256: Mapping[str, str] | None = None,
    checkpoint_dir: str | Path | None = None,
    threads: int | None = None,
    point: Mapping[str, Any] | None = None,
    curve_points: int = epochs.CURVE_POINTS,
) -> dict[str, Any]:
    """Train one run and write its outputs into ``out``; return what ``train.json`` holds.

    ``conventions`` are the dataset's options (declared classes, label offset, transpose); the
    image size and classes come from the data. ``sha256`` maps data roles to their pinned
    digests: a data file that differs is refused. Every check that can fail (variant,
    hyperparameters, backend, device, output folder, data, memory) runs before training starts;
    the three outputs are written together or not at all.
    With ``checkpoint_dir``, progress is saved there after every epoch, resumed from when the
    run is started again, and removed once the outputs are written. ``threads`` sets the job's
    thread count (:func:`mnistbench.plugin.threads.limit`); None keeps the one it has. ``point``
    (the run's swept settings, see mnistbench.plan.points) is recorded as given; what it sets
    reaches the run through ``hyperparameters``, ``device`` and ``threads``, but its
    ``implementation``, taken from it (the backend's first for the variant where it names none).
    ``curve_points`` is how many epochs score the test set for the learning curve
    (:func:`mnistbench.training.epochs.scored_epochs`); the others' test accuracy is left empty.
    """
    at_start = provenance.load()  # how busy the machine was as the job began
    if threads is not None:
        thread_control.limit(threads)
    epochs.scored_epochs(1, curve_points)  # refuses a bad setting before any work
    the_variant = get_variant(variant)
    hp = the_variant.hyperparameters(hyperparameters)
    registry = load_backends()
    the_backend = registry.get(backend)
    if variant not in the_backend.variants:
        raise MnistbenchError(f"backend {backend!r} does not implement variant {variant!r}")
    resolved = resolve_device(the_backend, device)
    implementation = resolve_implementation(
        the_backend, variant, (point or {}).get("implementation")
    )
    # Named in the checkpoint's fingerprint only where it is not the default: a run that names
    # none keeps the fingerprint it had before implementations existed.
    named = (
        {}
        if implementation == default_implementation(the_backend)
        else {"implementation": implementation}
    )
    run_id = {"dataset": dataset, "variant": variant, "backend": backend, "seed": seed}
    conventions = conventions or Conventions()
    limits = {"train_limit": train_limit, "test_limit": test_limit}
    folder = Path(checkpoint_dir) if checkpoint_dir else None
    with artifacts.output_folder(out) as out:
        preparing = time.perf_counter()
        data_set = datasets.load(data, conventions, train_limit, test_limit, sha256)
        shape = {**data_set.shape.record(), **conventions.record()}
        n_train = len(data_set.train_images)
        if reason := the_variant.refuses(data_set.shape):
            raise MnistbenchError(f"variant {variant!r} on dataset {dataset!r}: {reason}")
        the_variant.check_fits(hp, n_train, provenance.memory_limit_bytes(), data_set.shape)
        spec = build_spec(
            the_variant,
            hp,
            data_set.train_images,
            data_set.train_labels,
            seed,
            resolved,
            data_set.shape,
            implementation,
        )
        x_test = the_variant.prepare_inputs(data_set.test_images, hp)
        preparing = time.perf_counter() - preparing
        log.info("training %s on %s with %s (%s), seed %d, %d samples", variant, dataset,
                 backend, resolved, seed, n_train)  # fmt: skip
        # Everything that shapes the numbers: a checkpoint made under anything else is discarded.
        fingerprint = checkpoint.fingerprint(
            {
                **run_id,
                "data_sha256": data_set.sha256,
                "limits": [train_limit, test_limit],
                "shape": shape,
                "hyperparameters": hp,
                "backend": registry.fingerprints.get(backend, backend),
                "backend_version": the_backend.version,
                "core": identity.step("train"),
                # The variant's own code: a built-in's module, a variant plugin's package.
                "variant_code": installed_variants().fingerprint(variant),
                "device": resolved,
                "threads": thread_control.configured(),
                **named,
                "curve_points": curve_points,
            }
        )
        y_test = data_set.test_labels.astype(np.int64)
        model, progress = epochs.train_with_checkpoints(
            the_backend, spec, x_test, y_test, folder, fingerprint, curve_points
        )
        info = {
            **run_id,
            "backend_version": the_backend.version,
            "point": dict(point or {}),
            "device": resolved,
            "implementation": implementation,
            "hyperparameters": hp,
            "train_samples": n_train,
            "test_samples": len(x_test),
            **limits,  # train_limit: the first N images only (config subset); None: all
            **shape,  # classes and image size read from the data, and how it was read
            **outcome(model, progress),
            "train_memory_mb": model.memory_mb,  # the epochs' own: set-up and imports left out
            "seconds_outside_training": {"prepare": preparing, **model.outside},
            **provenance.record(resolved, at_start),
            "data_sha256": data_set.sha256,
        }
        artifacts.write_all(out, outputs(model, info))
    if folder:
        checkpoint.remove(folder)
    return info


def outputs(model: epochs.TrainedModel, info: dict[str, Any]) -> dict[str, Any]:
    """The run's three output files, by name, as :func:`mnistbench.artifacts.write_all` takes
    them: the weights, the learning curve and ``train.json``."""
    return {
        "weights.npz": weights_file.writer(model.weights),
        "history.csv": lambda p: _write_history(p, model.history),
        "train.json": artifacts.json_file(info),
    }


def outcome(model: epochs.TrainedModel, progress: checkpoint.Checkpoint) -> dict[str, Any]:
    """What training gave, for ``train.json``: status, epochs, seconds, attempts, memory."""
    return {
        "status": "diverged" if model.diverged else "ok",
        "diverged": model.diverged,
        "epochs": len(model.history),
        # The epochs whose test accuracy the learning curve has (history.csv leaves the rest empty).
        "scored_epochs": [r["epoch"] for r in model.history if r["test_accuracy"] is not None],
        # Every attempt's training time: the finished epochs and the interrupted ones.
        "train_seconds": model.train_seconds + progress.lost_seconds,
        "samples_per_second": model.samples / model.train_seconds,
        "attempts": progress.attempts,
        "lost_seconds": progress.lost_seconds,
        "final_train_loss": model.history[-1]["train_loss"],
        "peak_rss_mb": provenance.peak_rss_mb(),
    }


def _write_history(path: Path, history: list[dict[str, Any]]) -> None:
    """One row per epoch; the test accuracy is left empty where the epoch was not scored: not
    one of the learning curve's points, or diverged."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        writer.writerows(history)
