"""python bench/data_memory.py [--data bench/out/million] [--train 1000000]

Peak memory of the train and evaluate steps on a synthetic MNIST-format set of a million
training images (28 x 28, 10 classes; made by bench/synthetic_idx.py unless ``--data`` holds
one), as each step runs in a job: ``python -m mnistbench train|evaluate``, its peak resident set
read from the kernel (``wait4``) when it exits. The steps memory-map the images, so a job should
hold what its run uses (the first N images, scaled to float32) and not a copy of the files.

Jobs (NumPy backend, one thread): mlp on the first 4,000 images (the quick config's subset),
on the first 60,000 (MNIST's size) and on all of them, one epoch each; sigmoid_mlp's 300 steps
of 128 images drawn from all of them; and the evaluate step of the last mlp run (10,000 test
images). Prints a table and writes bench/out/data_memory.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
JOBS = [  # name, variant, hyperparameters, training images used (None: all)
    ("mlp, first 4,000", "mlp", {"epochs": 1}, 4000),
    ("mlp, first 60,000", "mlp", {"epochs": 1}, 60000),
    ("mlp, all", "mlp", {"epochs": 1}, None),
    ("sigmoid_mlp, 300 x 128 from all", "sigmoid_mlp", {"iterations": 300, "log_every": 300}, None),
]


def peak_mb(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return its peak resident memory in MB and its seconds. Fails loudly."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"})
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"data_memory: {' '.join(command)} exited {child.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start  # ru_maxrss is in KiB


def step(name: str, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mnistbench", "-q", name, "--data", str(data), *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    parser.add_argument("--data", type=Path, default=OUT / "million")
    parser.add_argument("--train", type=int, default=1_000_000, help="images to make, if made")
    args = parser.parse_args()
    if not (args.data / "train_images.idx").is_file():
        made = [sys.executable, str(REPO / "bench" / "synthetic_idx.py"), str(args.data)]
        subprocess.run([*made, "--train", str(args.train)], check=True)
    n_train = (args.data / "train_labels.idx").stat().st_size - 8
    rows = []
    for name, variant, hp, limit in JOBS:
        run = OUT / "data_memory_runs" / variant / str(limit or "all")
        train = step("train", args.data, "--dataset", "synthetic", "--variant", variant)
        train += ["--backend", "numpy", "--seed", "0", "--out", str(run), "--classes", "10"]
        train += ["--hparams", json.dumps(hp)]
        train += ["--train-limit", str(limit)] if limit else []
        mb, seconds = peak_mb(train)
        rows.append(
            {"job": f"train {name}", "images": limit or n_train, "peak MB": mb, "s": seconds}
        )
    evaluated = OUT / "data_memory_runs" / "mlp" / "all"
    mb, seconds = peak_mb(step("evaluate", args.data, "--run", str(evaluated)))
    rows.append(
        {"job": "evaluate (10,000 test images)", "images": 10000, "peak MB": mb, "s": seconds}
    )
    print(f"{'job':<40} {'images':>10} {'peak MB':>9} {'s':>7}")
    for row in rows:
        print(f"{row['job']:<40} {row['images']:>10,} {row['peak MB']:>9,.0f} {row['s']:>7.1f}")
    OUT.mkdir(exist_ok=True)
    with (OUT / "data_memory.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
