"""python bench/mnn_init_scale.py [--scales 1 0.3 0.1 0.03 0.01] [--seeds 0 1 2] [--jobs N]

Why ``mnn`` departs from its seed's ``A ~ U(0, 1)``: test accuracy on full MNIST against the scale
of the initial weights, ``A ~ U(0, init_scale)``, everything else as the seed has it (its bugs
fixed). Beside each run, the two measurements that explain a low one: the share of test images
whose ten ReLU logits are all zero (no gradient reaches them in training, and argmax reads them as
0), and the classes lost (recall under 0.5). Prints a table and writes
bench/out/mnn_init_scale.csv.

Each run is the real ``train`` and ``evaluate`` commands (see accuracy.py); the logits are
recomputed from the saved weights by the reference backend.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from accuracy import OUT, REPO, ensure_data, run_one

import mnistbench_numpy.mnn as reference
from mnistbench import artifacts
from mnistbench.data import datasets
from mnistbench.training import weights_file
from mnistbench.variants import mnn


def dead_share(run_dir: Path, hp: dict, images: np.ndarray) -> float:
    """The share of ``images`` whose ten logits are all zero under the run's final weights."""
    weights = weights_file.load(run_dir / "weights.npz", mnn.VARIANT.weight_shapes(hp))
    logits = reference.predict(weights, mnn.VARIANT.prepare_inputs(images, hp), hp)  # (N, 10)
    return float(np.mean(logits.max(axis=1) <= 0))


def row(run_dir: Path, scale: float, seed: int, images: np.ndarray) -> dict:
    metrics = artifacts.read_json(run_dir / "metrics.json")
    lost = [str(c) for c, r in enumerate(metrics["recall"]) if r is not None and r < 0.5]
    return {
        "init_scale": scale,
        "seed": seed,
        "backend": metrics["backend"],
        "test_accuracy": metrics["test_accuracy"],
        "all_zero_logits": dead_share(run_dir, metrics["hyperparameters"], images),
        "classes_lost": " ".join(lost) or "-",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[1, 0.3, 0.1, 0.03, 0.01])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads per run")
    parser.add_argument("--data", type=Path, default=REPO / "resources" / "mnist")
    parser.add_argument("--runs", type=Path, default=OUT / "mnn_init_scale_runs")
    parser.add_argument(
        "--resume", action="store_true", help="keep finished runs (same code and settings only)"
    )
    args = parser.parse_args()

    ensure_data(args.data)
    combos = list(itertools.product(args.scales, args.seeds))

    def train(scale: float, seed: int) -> Path:
        run_dir = args.runs / f"init_scale{scale:g}" / args.backend / f"seed{seed}"
        overrides = {"init_scale": scale}
        run_one(args.data, run_dir, "mnn", args.backend, seed, overrides, args.threads, args.resume)
        return run_dir

    with ThreadPoolExecutor(args.jobs) as pool:
        run_dirs = list(pool.map(lambda c: train(*c), combos))
    images = datasets.load(args.data).test_images
    table = pd.DataFrame([row(d, *c, images) for d, c in zip(run_dirs, combos)])
    OUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT / "mnn_init_scale.csv", index=False)
    print(table.to_string(index=False, float_format="{:.4f}".format))
    print(f"\nwrote {OUT / 'mnn_init_scale.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
