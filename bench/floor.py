"""python bench/floor.py [--quick] [--threads 1] [--repeats 3] [--variants ...] [--backends ...]

How close each backend's training step on the CPU is to the least its own framework can do: for
every installed variant and backend, the kernels every step must run (bench/floors/variants.py
says which: the batch's gather, the matrix products at the variant's shapes, the optimiser),
timed in that backend's framework on the data and shapes a real step uses, beside the backend's
whole step (its epoch as bench/speed.py times it, divided by its steps).

- NumPy and PyTorch call one kernel at a time: each kernel is timed batch by batch through an
  epoch (bench/floors/eager.py), and the calls a step cannot avoid beyond them (a softmax, a
  ReLU, a bias update) are counted at the framework's cheapest call each. Where steps are small
  (batch 1 or 8), those calls are most of the floor.
- JAX runs an epoch as one compiled scan: its kernels are timed as one scan over the same
  batches (bench/floors/compiled.py), which pays no per-call dispatch. XLA fuses the
  elementwise work between the products, so no count of calls is added to its floor.

``floor`` is their sum, ``step`` the whole step, ``ratio`` step / floor. A ratio over 1.5 gets
the reason it is not lower (``WHY`` below) or "not explained". Repeats are interleaved, their
order rotated; the table prints medians in microseconds per step. Writes bench/out/floor.csv
(``variant, backend, floor_us, step_us, ratio, why``) and every measurement beside it in
bench/out/floor-measurements.csv. ``--quick``: 6,000 training images, two repeats.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import speed  # first: it fixes the thread count before NumPy, PyTorch and JAX load

# isort: split

import numpy as np
import pandas as pd
from floors import StepKernels, compiled, eager
from floors.variants import DESCRIBED

from mnistbench.data import datasets
from mnistbench.plugin.backend import TrainSpec
from mnistbench.plugin.registry import load_backends
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS

OUT = speed.REPO / "bench" / "out" / "floor.csv"
MEASUREMENTS = OUT.with_name("floor-measurements.csv")
QUICK = {"train_limit": 6_000, "repeats": 2}
LIMIT = 1.5  # a step within 1.5 times its floor needs no reason
COLUMNS = ["variant", "backend", "floor_us", "step_us", "ratio", "why"]
FRAMEWORKS = ("numpy", "torch", "jax")

# Why a step stays above 1.5 times its floor, where it does (measured with this script).
WHY: dict[tuple[str, str], str] = {
    ("lenet", "numpy"): "NumPy has no convolution: the step copies every 5x5 window into im2col "
    "rows and adds their gradients back (col2im), passes over (B*784, 25) and (B*100, 150) "
    "arrays that the floor's products, which start from those rows, do not count",
    ("lenet", "jax"): "the step builds each convolution's 5x5 patches from 25 slices and adds "
    "their gradients back, passes over (B*784, 25) and (B*100, 150) arrays that the floor's "
    "products, which start from the patches, do not count; XLA's own CPU convolution "
    "(lax.conv_general_dilated) makes the step three times slower still at these channel counts",
    ("predictive_coding", "jax"): "between its products each of the 20 relaxations runs its "
    "elementwise work (x1's ReLU and its slope, the errors, x1's update) on (B, hidden) arrays "
    "as loops of their own: XLA cannot fuse them into the products, and the floor, products "
    "only, does not count them",
    ("predictive_coding", "numpy"): "each of the 20 relaxations' elementwise calls (x1's ReLU "
    "and its slope, the errors, x1's update) passes over (B, hidden) arrays, which the floor "
    "counts at the framework's cheapest call, an add of one element",
    ("dropout_mlp", "numpy"): "a step of one image: the Python between NumPy's calls (the loop, "
    "the step's function calls, the sample's row and its mask) costs about half as much as the "
    "calls, and the floor counts only the calls",
}


def full_batches(spec: TrainSpec) -> np.ndarray:
    """The rows of each full batch of epoch 0, in the core's order: (steps, batch)."""
    order, size = spec.epochs[0], spec.batch_size
    return order[: len(order) - len(order) % size].reshape(-1, size)


def kernels_timer(backend: str, kernels: StepKernels, spec: TrainSpec):
    """``time() -> {kernel: seconds per step}`` for ``backend``'s framework."""
    hp, order = spec.hyperparameters, full_batches(spec)
    if backend == "jax":
        run = compiled.jax_scan(kernels, spec, hp)
        run(order)  # compiles, as the backend's set-up does
        return lambda: {"kernels (one scan)": _timed(run, order) / len(order)}
    made = eager.numpy_kernels if backend == "numpy" else eager.torch_kernels
    found = made(kernels, spec, hp)
    batches = list(order)
    if backend == "torch":
        import torch

        batches = [torch.from_numpy(rows) for rows in batches]
    extra = max(0, kernels.calls - kernels.kernel_calls())

    def time_once() -> dict[str, float]:
        with _flushed(backend):
            seconds = eager.time_kernels(found, batches)
        return {**seconds, "other calls": extra * eager.least_call(backend)}

    return time_once


def _timed(run, order) -> float:
    import time

    start = time.perf_counter()
    run(order)
    return time.perf_counter() - start


def _flushed(backend: str):
    """Denormals flushed as the backend trains: its own switch for PyTorch, the core's else."""
    if backend == "torch":
        from mnistbench_torch import runtime

        return runtime.flush_denormals("cpu")
    from mnistbench.plugin.denormals import flush_denormals

    return flush_denormals()


def entrants(specs: dict, registry, backends: list[str]) -> list[tuple]:
    """(variant, backend, what, time()) for every described variant a backend implements."""
    found = []
    for variant, (spec, kernels) in specs.items():
        for name in backends:
            backend = registry.get(name)
            if variant not in backend.variants or name not in FRAMEWORKS:
                continue
            steps = spec.steps_in_epoch(0)
            whole = lambda b=backend, s=spec, n=steps: {"step": speed.time_epochs(b, s)[0][0] / n}  # noqa: E731
            found.append((variant, name, "kernels", kernels_timer(name, kernels, spec)))
            found.append((variant, name, "step", whole))
    return found


def measure(specs: dict, backends: list[str], repeats: int) -> pd.DataFrame:
    """One row per (repeat, variant, backend, what) with seconds per step: each kernel (or
    JAX's scan), the calls beyond them, and the whole ``step``; repeats interleaved, rotated."""
    runners = entrants(specs, load_backends(), backends)
    rows = []
    for repeat in range(repeats):
        shift = repeat % max(len(runners), 1)
        for variant, backend, what, timer in runners[shift:] + runners[:shift]:
            for key, seconds in timer().items():
                rows.append(
                    {"variant": variant, "backend": backend, "repeat": repeat, "what": key}
                    | {"seconds": seconds}
                )
            print(f"repeat {repeat + 1}: {variant} {backend} {what} done", file=sys.stderr)
    return pd.DataFrame(rows, columns=["variant", "backend", "repeat", "what", "seconds"])


def summarise(table: pd.DataFrame, why: dict | None = None) -> pd.DataFrame:
    """A row per (variant, backend): ``floor_us`` the sum of its kernels' median microseconds
    per step, ``step_us`` the whole step's median, ``ratio`` step / floor, and ``why`` for a
    ratio over :data:`LIMIT`."""
    why = WHY if why is None else why
    median = table.groupby(["variant", "backend", "what"], sort=False)["seconds"].median() * 1e6
    rows = []
    for (variant, backend), parts in median.groupby(level=["variant", "backend"], sort=False):
        parts = parts.droplevel(["variant", "backend"])
        floor, step = parts.drop("step", errors="ignore").sum(), parts.get("step", np.nan)
        ratio = step / floor
        reason = why.get((variant, backend), "not explained") if ratio > LIMIT else ""
        rows.append([variant, backend, floor, step, ratio, reason])
    return pd.DataFrame(rows, columns=COLUMNS)


def undescribed(backends: list[str], variants: list[str]) -> pd.DataFrame:
    """Rows for installed variants with no kernels in bench/floors/variants.py."""
    rows = [
        [v, b, np.nan, np.nan, np.nan, "no kernels described in bench/floors/variants.py"]
        for v in variants
        if v not in DESCRIBED
        for b in backends
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def make_specs(data, variants: list[str]) -> dict[str, tuple[TrainSpec, StepKernels]]:
    """One epoch's spec (seed 0) and its step's kernels, per described variant."""
    specs = {}
    for name in (v for v in variants if v in DESCRIBED):
        variant = VARIANTS[name]
        hp = variant.hyperparameters(speed.short_run(name, 1))
        spec = build_spec(variant, hp, data.train_images, data.train_labels, 0, "cpu")
        specs[name] = (spec, DESCRIBED[name](hp, spec.x_train.shape[1:]))
    return specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads per runner (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-limit", type=int, help="train on the first N images only")
    parser.add_argument("--quick", action="store_true", help="6,000 images, two repeats")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--backends", nargs="+")
    parser.add_argument("--data", type=Path, default=speed.REPO / "resources" / "mnist")
    parser.add_argument("--out", type=Path, default=OUT, help="the CSV to write")
    parser.add_argument(
        "--summarise",
        type=Path,
        metavar="MEASUREMENTS",
        help="measure nothing: summarise an earlier run's floor-measurements.csv again",
    )
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    backends = args.backends or [b for b in load_backends().available() if b in FRAMEWORKS]
    if args.summarise:
        table = pd.read_csv(args.summarise)
    else:
        speed.ensure_data(args.data)
        data = datasets.load(args.data, train_limit=args.train_limit)
        table = measure(make_specs(data, args.variants), backends, args.repeats)
    # an empty frame in the concat would make every column object-typed, unformatted below
    parts = [summarise(table), undescribed(backends, args.variants)]
    summary = pd.concat([part for part in parts if not part.empty])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary.to_csv(args.out, index=False, float_format="%.1f")
    table.to_csv(args.out.with_name(args.out.stem + "-measurements.csv"), index=False)
    repeats = table["repeat"].nunique()
    print(f"\nµs per step, median of {repeats} interleaved epochs; ratio = step / floor")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
