"""python bench/mnn_floor.py [--threads 1] [--repeats 3] [--speedup 40] [--backends ...]

How fast an ``mnn`` training step on the CPU can get, per backend: the kernels every step runs
whatever code surrounds them, timed on the data and weights a real step uses, beside the backend's
whole step and the time a speed-up target over the seed loop leaves a step.

Each batch of one epoch (full batches of 64) runs, in the order a step runs them:

- ``gather``: the batch's images and targets copied out of the 60,000-image training set;
- ``drive``: the pixels' product ``x @ W[:784]``, (64, 784) @ (784, 112);
- ``pixel grad``: its gradient ``x.T @ d``, (784, 64) @ (64, 112);
- ``adam``: one update of the trained (897, 112) matrix, by the backend's own kernel.

They are timed one after another within each batch, so they meet the caches a step leaves. Their
sum is the ``floor``; ``step`` is the backend's whole step (its epoch, as bench/speed.py times it,
divided by its steps), and ``rest`` what the step spends beyond the floor: the three ticks of 112
free neurons, the softmax, six smaller products and the calls between kernels. ``budget`` is the
seed loop's step (seed 000, PyTorch, as bench/speed.py runs it) divided by ``--speedup``.
Repeats are interleaved; the table prints medians in microseconds per step and
bench/out/mnn_floor.csv keeps every measurement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import speed  # first: it fixes the thread count before NumPy and PyTorch load

# isort: split

import numpy as np
import pandas as pd

from mnistbench.data import datasets
from mnistbench.plugin.backend import TrainSpec
from mnistbench.plugin.denormals import flush_denormals
from mnistbench.plugin.layouts import padded_free_columns
from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS
from mnistbench.variants.mnn import PIXELS

OUT = speed.REPO / "bench" / "out" / "mnn_floor.csv"
KERNELS = ["gather", "drive", "pixel grad", "adam"]
COLUMNS = [*KERNELS, "floor", "step", "rest", "budget"]


def full_batches(spec: TrainSpec) -> list[np.ndarray]:
    """The rows of each full batch of epoch 0, in the core's order."""
    order, size = spec.epochs[0], spec.batch_size
    return [order[i : i + size] for i in range(0, len(order) - size + 1, size)]


def gradient_at_drive(shape: tuple[int, int]) -> np.ndarray:
    """A stand-in for d loss / d drive (B, F): its values change no kernel's cost, only its
    shape and dtype do (denormals are flushed, as in training)."""
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32) * 1e-3


def numpy_kernels(spec: TrainSpec) -> np.ndarray:
    """Seconds per step of each of KERNELS over one epoch, NumPy (its BLAS, numba's Adam)."""
    from mnistbench_numpy.adam import adam

    hp = spec.hyperparameters
    W = padded_free_columns(spec.initial_weights["A"])
    g, m, v = np.zeros_like(W), np.zeros_like(W), np.zeros_like(W)
    d = gradient_at_drive((spec.batch_size, W.shape[1]))
    drive = np.empty_like(d)
    total = np.zeros(len(KERNELS))
    batches = full_batches(spec)
    with flush_denormals():
        for step, rows in enumerate(batches, start=1):
            t0 = time.perf_counter()
            x, _ = spec.x_train[rows], spec.y_train[rows]
            t1 = time.perf_counter()
            np.matmul(x, W[:PIXELS], out=drive)
            t2 = time.perf_counter()
            np.matmul(x.T, d, out=g[:PIXELS])
            t3 = time.perf_counter()
            adam(W, g, m, v, step, hp)
            t4 = time.perf_counter()
            total += np.diff([t0, t1, t2, t3, t4])
    return total / len(batches)


def torch_kernels(spec: TrainSpec) -> np.ndarray:
    """Seconds per step of each of KERNELS over one epoch, PyTorch on the CPU (its BLAS, its
    fused Adam), the batch gathered as its loop gathers it."""
    import torch

    import mnistbench_torch.mnn as mnn
    from mnistbench_torch import runtime
    from mnistbench_torch.updates import adam_

    runtime.use_job_threads()  # the job's count, which importing bench/speed.py set

    hp = spec.hyperparameters
    w = mnn.params(spec.initial_weights, "cpu")
    state = mnn.initial_state(w)
    W, g = w["W"], w["g"]
    d = torch.from_numpy(gradient_at_drive((spec.batch_size, W.shape[1])))
    drive = torch.empty_like(d)
    x_train = runtime.tensor(spec.x_train, "cpu")
    y_train = mnn.targets(runtime.tensor(spec.y_train, "cpu"))
    total = np.zeros(len(KERNELS))
    batches = [torch.from_numpy(rows) for rows in full_batches(spec)]
    with runtime.flush_denormals("cpu"), torch.no_grad():
        for rows in batches:
            t0 = time.perf_counter()
            x, _ = x_train.index_select(0, rows), y_train.index_select(0, rows)
            t1 = time.perf_counter()
            torch.mm(x, w["pixels"], out=drive)
            t2 = time.perf_counter()
            torch.mm(x.T, d, out=w["g_pixels"])
            t3 = time.perf_counter()
            adam_(W, g, state["m"], state["v"], state["step"], hp)
            t4 = time.perf_counter()
            total += np.diff([t0, t1, t2, t3, t4])
    return total / len(batches)


KERNEL_TIMERS = {"numpy": numpy_kernels, "torch": torch_kernels}


def measure(spec: TrainSpec, backends: list[str], repeats: int, seed_loop: bool = True):
    """One row per (repeat, runner, what) with the seconds per step: each backend's KERNELS and
    whole ``step``, and the seed loop's ``step``; repeats interleaved, their order rotated."""
    registry = load_backends()
    runners = [(name, "kernels") for name in backends] + [(name, "step") for name in backends]
    if seed_loop:
        runners.append(("seed", "step"))
    steps = spec.steps_in_epoch(0)
    rows = []
    for repeat in range(repeats):
        shift = repeat % len(runners)
        for name, what in runners[shift:] + runners[:shift]:
            if what == "kernels":
                seconds = dict(zip(KERNELS, KERNEL_TIMERS[name](spec), strict=True))
            elif name == "seed":
                loop = speed.LOOPS["mnn"][0]
                seconds = {"step": speed.time_seed_epochs(loop, spec)[0] / steps}
            else:
                seconds = {"step": speed.time_epochs(registry.get(name), spec)[0] / steps}
            rows += [
                {"repeat": repeat, "runner": name, "what": key, "seconds": value}
                for key, value in seconds.items()
            ]
            print(f"repeat {repeat + 1}: {name} {what} done", file=sys.stderr)
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame, speedup: float) -> pd.DataFrame:
    """Median microseconds per step, a row per backend: KERNELS, their sum (``floor``), the whole
    ``step``, ``rest`` = step - floor, and ``budget`` = the seed loop's step / ``speedup``."""
    median = table.groupby(["runner", "what"])["seconds"].median() * 1e6
    seed = median.get(("seed", "step"), float("nan"))
    backends = [r for r in dict.fromkeys(table["runner"]) if r != "seed"]
    summary = pd.DataFrame(
        [{kernel: median[(name, kernel)] for kernel in [*KERNELS, "step"]} for name in backends],
        index=pd.Index(backends, name="backend"),
    )
    summary["floor"] = summary[KERNELS].sum(axis=1)
    summary["rest"] = summary["step"] - summary["floor"]
    summary["budget"] = seed / speedup
    return summary[COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads per runner (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--speedup", type=float, default=40.0, help="the target over the seed")
    parser.add_argument("--backends", nargs="+", default=list(KERNEL_TIMERS))
    parser.add_argument("--data", type=Path, default=speed.REPO / "resources" / "mnist")
    parser.add_argument("--out", type=Path, default=OUT, help="the CSV to write")
    args = parser.parse_args()
    speed.ensure_data(args.data)
    data = datasets.load(args.data)
    variant = VARIANTS["mnn"]
    hp = variant.hyperparameters({"epochs": 1})
    spec = build_spec(variant, hp, data.train_images, data.train_labels, 0, "cpu")
    table = measure(spec, args.backends, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(
        f"\nmnn, µs per step, {speed.THREADS} CPU thread(s), median of {args.repeats} epochs "
        f"of {len(spec.epochs[0]):,} images; budget = seed 000's step / {args.speedup:g}"
    )
    print(summarise(table, args.speedup).round(1).to_string())
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
