"""Known answers: inputs whose every number is written down before the product computes it.

Two kinds. **A results tree** (:func:`write_results`), the input of the numbers tests. The test
images are blank but for one lit pixel, and the ``mlp`` weights map lit pixel ``k`` to
logit ``k`` (through a permutation per seed), so the class each image is predicted as is chosen
here, image by image. The labels are chosen too, so each run's (true, predicted) pairs, and from
them its accuracy, confusion cells, precision and recall, are written down before the product
computes anything. The pairs are lopsided on purpose: 3 is taken for 5 twice but 5 never for 3
(a transposed matrix shows), class 8 is never predicted (precision undefined) and class 6 never
occurs (recall undefined).

The train step's own figures (seconds, throughput, loss) are written into ``train.json`` and
``history.csv`` here as chosen values, so what aggregate and report do with them is checked
against arithmetic done in the tests, not against the product's own output.

**Aggregated tables** (:func:`write`, :func:`summary` and the rest), for report tests that need
no training. Two backends (numpy, torch), variant mlp, seeds 0 and 1, on MNIST cut to 4,000
training images and one epoch (a quick run), and one failed run. NumPy takes 2.0 s per epoch on
both seeds, torch 1.0 and 0.8 s: a median of 0.9 s, a speed-up over numpy of 2.0 / 0.9 = 2.22.
Each run predicts 1,000 test images in 2 ms: 2 µs per image.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mnistbench.data import datasets
from mnistbench.evaluation import evaluate
from mnistbench.training import weights_file
from mnistbench.variants import VARIANTS

DATASET = "known"
HIDDEN = 10
# The class each test image is predicted as with the identity permutation, and its label.
PREDICTED = [0, 0, 0, 1, 1, 5, 5, 5, 7, 7, 7, 7, 4, 2, 9, 3]
LABELS = [0, 0, 0, 1, 1, 3, 3, 5, 2, 7, 7, 7, 9, 2, 9, 3]
# Per seed: the permutation applied to the predicted class, and the train step's figures.
SEEDS = {
    0: {
        "permutation": list(range(10)),
        "train_seconds": [2.0, 3.0],  # per epoch
        "train_loss": [0.9, 0.4],
        "peak_rss_mb": 200.0,
        "train_memory_mb": 20.0,
        "job_wall_seconds": 7.5,
    },
    1: {
        "permutation": [0, 1, 2, 3, 4, 5, 6, 9, 8, 7],  # 7 and 9 swapped
        "train_seconds": [4.0, 6.0],
        "train_loss": [1.1, 0.5],
        "peak_rss_mb": 300.0,
        "train_memory_mb": 30.0,
        "job_wall_seconds": 12.5,
    },
}
TRAIN_SAMPLES = 20
EPOCHS = 2


@dataclass(frozen=True)
class KnownRun:
    seed: int
    pairs: list[tuple[int, int]]  # (true, predicted) per test image
    train_seconds: float
    samples_per_second: float
    final_train_loss: float
    peak_rss_mb: float
    train_memory_mb: float
    job_wall_seconds: float
    directory: Path

    @property
    def accuracy(self) -> float:
        return sum(t == p for t, p in self.pairs) / len(self.pairs)

    def cell(self, true: int, predicted: int) -> int:
        return Counter(self.pairs)[(true, predicted)]

    def precision(self, k: int) -> float | None:
        predicted_k = [t for t, p in self.pairs if p == k]
        return predicted_k.count(k) / len(predicted_k) if predicted_k else None

    def recall(self, k: int) -> float | None:
        true_k = [p for t, p in self.pairs if t == k]
        return true_k.count(k) / len(true_k) if true_k else None


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uncompressed uint8 IDX file: magic 0x0000, dtype code 0x08, ndim, big-endian dims."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, np.uint8).tobytes())


def lit_pixel(k: int) -> int:
    """The flattened pixel that stands for class ``k``: spread over the image, one per row 2k+3."""
    return (2 * k + 3) * 28 + 5 + 2 * k


def write_dataset(folder: Path) -> Path:
    """The four IDX files: test image i lights the pixel of class PREDICTED[i], labelled
    LABELS[i]; the training split (unused by evaluate) is blank images of class 0."""
    folder.mkdir(parents=True, exist_ok=True)
    test_images = np.zeros((len(PREDICTED), 28 * 28), np.uint8)
    test_images[np.arange(len(PREDICTED)), [lit_pixel(k) for k in PREDICTED]] = 255
    write_idx(datasets.role_path(folder, "test_images"), test_images.reshape(-1, 28, 28))
    write_idx(datasets.role_path(folder, "test_labels"), np.array(LABELS, np.uint8))
    write_idx(
        datasets.role_path(folder, "train_images"), np.zeros((TRAIN_SAMPLES, 28, 28), np.uint8)
    )
    write_idx(datasets.role_path(folder, "train_labels"), np.zeros(TRAIN_SAMPLES, np.uint8))
    return folder


def weights(permutation: list[int]) -> dict[str, np.ndarray]:
    """mlp weights, hidden 10: pixel of class k -> hidden unit k -> logit permutation[k]."""
    w1 = np.zeros((784, HIDDEN), np.float32)
    w1[[lit_pixel(k) for k in range(10)], np.arange(10)] = 1.0
    w2 = np.zeros((HIDDEN, 10), np.float32)
    w2[np.arange(10), permutation] = 1.0
    return {"W1": w1, "b1": np.zeros(HIDDEN, np.float32), "W2": w2, "b2": np.zeros(10, np.float32)}


def write_results(root: Path) -> tuple[Path, dict[int, KnownRun]]:
    """``root/resources/known`` and one evaluated mlp/numpy run per seed under ``root/results``.

    Returns the data folder and, per seed, what every number of the run must be.
    """
    data = write_dataset(root / "resources" / DATASET)
    runs = {}
    for seed, chosen in SEEDS.items():
        run_dir = root / "results" / DATASET / "mlp" / "numpy" / "default" / f"seed{seed}"
        run_dir.mkdir(parents=True)
        weights_file.save(run_dir, "weights.npz", weights(chosen["permutation"]))
        seconds, losses = chosen["train_seconds"], chosen["train_loss"]
        history = ["epoch,train_loss,test_accuracy,seconds,samples"]
        history += [f"{e + 1},{losses[e]},0.5,{seconds[e]},{TRAIN_SAMPLES}" for e in range(EPOCHS)]
        (run_dir / "history.csv").write_text("\n".join(history) + "\n")
        train_seconds = sum(seconds)
        info = {
            "dataset": DATASET,
            "variant": "mlp",
            "backend": "numpy",
            "backend_version": np.__version__,
            "seed": seed,
            "status": "ok",
            "diverged": None,
            "device": "cpu",
            "n_classes": 10,
            "hyperparameters": {"hidden": HIDDEN, "lr": 0.1, "batch_size": 8, "epochs": EPOCHS},
            "train_samples": TRAIN_SAMPLES,
            "test_samples": len(LABELS),
            "epochs": EPOCHS,
            "train_seconds": train_seconds,
            "samples_per_second": EPOCHS * TRAIN_SAMPLES / train_seconds,
            "final_train_loss": losses[-1],
            "peak_rss_mb": chosen["peak_rss_mb"],
            "train_memory_mb": chosen["train_memory_mb"],
        }
        (run_dir / "train.json").write_text(json.dumps(info))
        (run_dir / "train_benchmark.tsv").write_text(
            f"s\th:m:s\tmax_rss\n{chosen['job_wall_seconds']}\t0:00:07\t1.0\n"
        )
        evaluate.run(data=data, run_dir=run_dir)
        perm = chosen["permutation"]
        runs[seed] = KnownRun(
            seed=seed,
            pairs=[(t, perm[p]) for t, p in zip(LABELS, PREDICTED)],
            train_seconds=train_seconds,
            samples_per_second=EPOCHS * TRAIN_SAMPLES / train_seconds,
            final_train_loss=losses[-1],
            peak_rss_mb=chosen["peak_rss_mb"],
            train_memory_mb=chosen["train_memory_mb"],
            job_wall_seconds=chosen["job_wall_seconds"],
            directory=run_dir,
        )
    return data, runs


# Aggregated tables with known numbers.

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CPU = "AMD EPYC 7B13 64-Core Processor"
EPOCH_SECONDS = {("numpy", 0): 2.0, ("numpy", 1): 2.0, ("torch", 0): 1.0, ("torch", 1): 0.8}
ACCURACY = {("numpy", 0): 0.899, ("numpy", 1): 0.901, ("torch", 0): 0.899, ("torch", 1): 0.901}
HYPERPARAMETERS = json.dumps(VARIANTS["mlp"].hyperparameters({"epochs": 1}), sort_keys=True)


def summary() -> pd.DataFrame:
    rows = [
        {
            "dataset": "mnist",
            "variant": "mlp",
            "backend": backend,
            "seed": seed,
            "status": "ok",
            "reason": "",
            "device": "cpu",
            "test_accuracy": ACCURACY[(backend, seed)],
            "final_train_loss": 0.35,
            "epochs": 1,
            "train_samples": 4000,
            "test_samples": 1000,
            "train_limit": 4000,
            "test_limit": 1000,
            "train_seconds": seconds,
            "samples_per_second": 4000 / seconds,
            "predict_seconds": 0.002,
            "predict_samples_per_second": 1000 / 0.002,
            "peak_rss_mb": 150.0,
            "train_memory_mb": 15.0,
            "job_wall_seconds": seconds + 1.5,
            "backend_version": "2.4.6" if backend == "numpy" else "2.13.0+cpu",
            "hyperparameters": HYPERPARAMETERS,
        }
        for (backend, seed), seconds in EPOCH_SECONDS.items()
    ]
    failed = {
        "dataset": "mnist",
        "variant": "mnn",
        "backend": "numpy",
        "seed": 0,
        "status": "failed",
        "reason": "train: out of memory",
    }
    return pd.DataFrame([*rows, failed])


def confusion() -> pd.DataFrame:
    """Every class right but for a few mistakes: torch's seed 1 moves 3 images of 7 to 1."""
    rows = []
    for backend, seed in EPOCH_SECONDS:
        for true in range(10):
            for predicted in range(10):
                count = 90 if true == predicted else (10 if predicted == (true + 1) % 10 else 0)
                if (backend, seed, true) == ("torch", 1, 7):
                    count += {7: -3, 1: 3}.get(predicted, 0)
                rows.append(
                    {
                        "dataset": "mnist",
                        "variant": "mlp",
                        "backend": backend,
                        "seed": seed,
                        "true": true,
                        "predicted": predicted,
                        "count": count,
                    }
                )
    return pd.DataFrame(rows)


def history() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": "mnist",
                "variant": "mlp",
                "backend": backend,
                "seed": seed,
                "epoch": 1,
                "train_loss": 0.35,
                "test_accuracy": ACCURACY[(backend, seed)],
                "seconds": seconds,
                "samples": 4000,
            }
            for (backend, seed), seconds in EPOCH_SECONDS.items()
        ]
    )


def provenance(cpu_of: dict | None = None) -> pd.DataFrame:
    """Each run's provenance items; ``cpu_of`` maps (backend, seed) to another CPU model."""
    rows = []
    for backend, seed in EPOCH_SECONDS:
        items = {
            "commit": COMMIT,
            "uncommitted changes": "no",
            "CPU model": (cpu_of or {}).get((backend, seed), CPU),
            "CPU cores": "64",
            "cores available to the job": "2",
            "threads": "1",
            "GPU": "none",
            "platform": "Linux-6.1-x86_64-with-glibc2.36",
            "framework": f"{backend} {'2.4.6' if backend == 'numpy' else '2.13.0+cpu'}",
            "python": "3.11.7",
            "data train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        }
        rows += [
            {
                "dataset": "mnist",
                "variant": "mlp",
                "backend": backend,
                "seed": seed,
                "device": "cpu",
                "item": item,
                "value": value,
            }
            for item, value in items.items()
        ]
    return pd.DataFrame(rows)


def write(folder: Path, cpu_of: dict | None = None) -> Path:
    """The four tables as ``aggregate`` writes them, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    summary().to_csv(folder / "summary.csv", index=False)
    confusion().to_csv(folder / "confusion.csv", index=False)
    history().to_csv(folder / "history.csv", index=False)
    provenance(cpu_of).to_csv(folder / "provenance.csv", index=False)
    return folder
