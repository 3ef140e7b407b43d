"""The evaluate step: load saved weights, predict the test set, write ``metrics.json``.

    python -m mnistbench evaluate --data resources/mnist --run results/mnist/mlp/numpy/seed0

Any backend can evaluate any backend's weights (``--backend``); by default the one that trained.
Beside ``metrics.json`` it keeps the test-set predictions
(:mod:`mnistbench.evaluation.predictions`), so that any two runs can be compared image by image.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench import artifacts
from mnistbench.data import datasets
from mnistbench.data.shapes import Conventions
from mnistbench.errors import MnistbenchError
from mnistbench.evaluation import predictions
from mnistbench.plugin import threads as thread_control
from mnistbench.plugin.registry import backend_errors, load_backends
from mnistbench.training import weights_file
from mnistbench.training.train import resolve_device
from mnistbench.variants import get_variant

log = logging.getLogger(__name__)
PREDICT_REPEATS = 3


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts with true class on rows and predicted class on columns."""
    flat = labels.astype(np.int64) * n_classes + predicted
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_scores(confusion: np.ndarray) -> tuple[list[float | None], list[float | None]]:
    """Precision and recall per class; None where a class was never predicted (or never seen)."""
    hits = np.diag(confusion)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = [float(h / p) if p else None for h, p in zip(hits, predicted)]
    recall = [float(h / a) if a else None for h, a in zip(hits, actual)]
    return precision, recall


TRAIN_KEYS = ["dataset", "variant", "backend", "seed", "device", "n_classes", "hyperparameters"]


def run(
    *,
    data: str | Path,
    run_dir: str | Path,
    out: str | Path | None = None,
    backend: str | None = None,
    device: str | None = None,
    sha256: Mapping[str, str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Evaluate the run in ``run_dir`` and write ``metrics.json`` (or ``out``).

    ``device`` defaults to the one that trained when the same backend evaluates, else ``auto``.
    ``sha256`` maps data roles to their pinned digests: a data file that differs is refused.
    A run that diverged gets metrics that say so, with no accuracy. ``threads`` sets the job's
    thread count (:func:`mnistbench.plugin.threads.limit`); None keeps the one it has.
    """
    if threads is not None:
        thread_control.limit(threads)
    run_dir = Path(run_dir)
    info = artifacts.read_json(run_dir / "train.json")
    missing = [k for k in TRAIN_KEYS if k not in info]
    if missing:
        raise MnistbenchError(
            f"{run_dir / 'train.json'}: not a train step's record (missing {', '.join(missing)})"
        )
    variant = get_variant(info["variant"])
    evaluator = load_backends().get(backend or info["backend"])
    if device is None:
        same_backend = evaluator.name == info["backend"]
        device = info["device"] if same_backend else "auto"
    resolved = resolve_device(evaluator, device)
    out = Path(out) if out else run_dir / "metrics.json"
    with artifacts.output_folder(out.parent):
        if info.get("status", "ok") == "diverged":
            metrics = {**info, "evaluated_by": evaluator.name, **DIVERGED_METRICS}
            labels = predicted = np.empty(0, np.int64)
            log.warning("%s: the run diverged; no accuracy to measure", run_dir)
        else:  # a diverged run's hyperparameters may hold a value JSON writes as null
            hp = variant.hyperparameters(info["hyperparameters"])
            metrics = {**info, "evaluated_by": evaluator.name, "evaluation_device": resolved}
            measured, labels, predicted = _measure(
                run_dir, variant, hp, evaluator, resolved, info, data, sha256
            )
            metrics |= measured
            log.info("%s: test accuracy %.4f", run_dir, metrics["test_accuracy"])
        kept = predictions.write(out.parent / predictions.PREDICTIONS, labels, predicted)
        try:
            artifacts.write_json(out.parent, out.name, metrics)
        except BaseException:
            kept.unlink(missing_ok=True)  # no half of a result
            raise
    return metrics


# What a diverged run's metrics hold in place of measurements.
DIVERGED_METRICS = {
    "evaluation_device": None,
    "test_accuracy": None,
    "confusion_matrix": None,
    "precision": None,
    "recall": None,
    "predict_seconds": None,
    "predict_samples_per_second": None,
}


def _measure(run_dir, variant, hp, evaluator, device, info, data, sha256):
    """Accuracy, confusion, per-class scores and predict timing of the run's weights, with the
    test labels and the predicted classes: (metrics, labels, predicted)."""
    weights_path, n_classes = run_dir / "weights.npz", info["n_classes"]
    # The data read as the train step read it: its classes, label offset and orientation.
    read_as = Conventions(n_classes, info.get("label_offset", 0), info.get("transpose", False))
    data_set = datasets.load(data, read_as, test_limit=info.get("test_samples"), sha256=sha256)
    weights = weights_file.load(weights_path, variant.shapes_for(hp, data_set.shape))
    for name, array in weights.items():
        if not np.isfinite(array).all():
            raise MnistbenchError(
                f"{weights_path}: weight {name!r} holds NaN or infinite values, though "
                "train.json records the run as ok; train the run again"
            )
    x = variant.prepare_inputs(data_set.test_images, hp)
    labels = data_set.test_labels.astype(np.int64)

    # Predict once untimed (warm-up: lazy imports, CUDA context), then take the median of repeats.
    with backend_errors(evaluator.name, "predict"):
        scores = np.asarray(evaluator.predict(variant.name, hp, weights, x, device), float)
        timings = []
        for _ in range(PREDICT_REPEATS):
            start = time.perf_counter()
            evaluator.predict(variant.name, hp, weights, x, device)
            timings.append(time.perf_counter() - start)
    if scores.shape != (len(x), n_classes):
        raise MnistbenchError(
            f"backend {evaluator.name!r} predicted scores of shape {scores.shape}; "
            f"expected ({len(x)}, {n_classes})"
        )
    if not np.isfinite(scores).all():
        raise MnistbenchError(
            f"backend {evaluator.name!r} predicted NaN or infinite scores from the finite "
            f"weights in {weights_path}"
        )
    predict_seconds = statistics.median(timings)
    predicted = np.argmax(scores, axis=1)
    confusion = confusion_matrix(labels, predicted, n_classes)
    precision, recall = per_class_scores(confusion)
    measured = {
        "test_accuracy": float(np.mean(predicted == labels)),
        "confusion_matrix": confusion.tolist(),
        "precision": precision,
        "recall": recall,
        "predict_seconds": predict_seconds,
        "predict_samples_per_second": len(x) / predict_seconds,
    }
    return measured, labels, predicted
