"""The evaluate step: load saved weights, predict the test set, write ``metrics.json``.

    python -m mnistbench evaluate --data resources/mnist --run results/mnist/mlp/numpy/seed0

Any backend can evaluate any backend's weights (``--backend``); by default the one that trained.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from mnistbench import artifacts, datasets
from mnistbench.plugins import load_backends
from mnistbench.train import resolve_device
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


def run(
    *,
    data: str | Path,
    run_dir: str | Path,
    out: str | Path | None = None,
    backend: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Evaluate the run in ``run_dir`` and write ``metrics.json`` (or ``out``).

    ``device`` defaults to the one that trained when the same backend evaluates, else ``auto``.
    """
    run_dir = Path(run_dir)
    info = artifacts.read_json(run_dir / "train.json")
    weights = artifacts.load_weights(run_dir / "weights.npz")
    variant = get_variant(info["variant"])
    hp = info["hyperparameters"]
    evaluator = load_backends().get(backend or info["backend"])
    if device is None:
        same_backend = evaluator.name == info["backend"]
        device = info["device"] if same_backend else "auto"
    resolved = resolve_device(evaluator, device)
    n_classes = info["n_classes"]
    data_set = datasets.load(data, n_classes, test_limit=info["test_samples"])
    x = variant.prepare_inputs(data_set.test_images, hp)
    labels = data_set.test_labels.astype(np.int64)

    # Predict once untimed (warm-up: lazy imports, CUDA context), then take the median of repeats.
    scores = evaluator.predict(variant.name, hp, weights, x, resolved)
    timings = []
    for _ in range(PREDICT_REPEATS):
        start = time.perf_counter()
        evaluator.predict(variant.name, hp, weights, x, resolved)
        timings.append(time.perf_counter() - start)
    predict_seconds = statistics.median(timings)

    predicted = np.argmax(scores, axis=1)
    confusion = confusion_matrix(labels, predicted, n_classes)
    precision, recall = per_class_scores(confusion)
    metrics = {
        **info,
        "evaluated_by": evaluator.name,
        "evaluation_device": resolved,
        "test_accuracy": float(np.mean(predicted == labels)),
        "confusion_matrix": confusion.tolist(),
        "precision": precision,
        "recall": recall,
        "predict_seconds": predict_seconds,
        "predict_samples_per_second": len(x) / predict_seconds,
    }
    artifacts.write_json(out or run_dir / "metrics.json", metrics)
    log.info("%s: test accuracy %.4f", run_dir, metrics["test_accuracy"])
    return metrics
