"""Small aggregated tables with known numbers, for report tests that need no training.

Two backends (numpy, torch), variant mlp, seeds 0 and 1, on MNIST cut to 4,000 training images
and one epoch (a quick run), and one failed run. NumPy takes 2.0 s per epoch on both seeds, torch
1.0 and 0.8 s: a median of 0.9 s, a speed-up over numpy of 2.0 / 0.9 = 2.22. Each run predicts
1,000 test images in 2 ms: 2 µs per image.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mnistbench.variants import VARIANTS

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
            "threads (OMP_NUM_THREADS)": "1",
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
