"""python bench/speed.py [--threads 1] [--repeats 3] [--epochs 2] [--variants ...] [--backends ...]

Seconds per epoch of every installed backend on every variant, full MNIST, side by side in one
process with the same thread count: what the core times in a real run (the time inside the
backend's epoch iterator; set-up and compilation before the first epoch are not counted).
Repeats are interleaved (each repeat trains every backend once, in a rotated order) so drift on
a busy machine shows in the spread instead of favouring one backend. Prints the min and median
seconds per epoch and the median's ratio to the NumPy backend (above 1: faster than NumPy), and
writes bench/out/speed.csv with every epoch measured.

An "epoch" is what the variant's plan calls one (see ``python -m mnistbench variants``): 60,000
samples for mlp, mnn and predictive_coding, ``log_every`` iterations for sigmoid_mlp, one pass
over ``train_samples`` images for dropout_mlp. Data come from resources/mnist, fetched first if
missing (MNISTBENCH_MIRROR, then the configured mirrors).
"""

from __future__ import annotations

import argparse
import os
import sys

# Threads are fixed before NumPy, PyTorch or JAX load: every backend gets the same number.
_threads = next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), None)
if _threads is None and "--threads" in sys.argv:
    _threads = sys.argv[sys.argv.index("--threads") + 1]
THREADS = int(_threads or 1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + f" --xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'}"
    + f" intra_op_parallelism_threads={THREADS}"
)

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mnistbench import datasets  # noqa: E402
from mnistbench.plugins import load_backends  # noqa: E402
from mnistbench.train import build_spec  # noqa: E402
from mnistbench.variants import VARIANTS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "speed.csv"
sys.path.insert(0, str(REPO / "bench"))
from accuracy import ensure_data  # noqa: E402


def short_run(variant: str, epochs: int) -> dict:
    """Hyperparameter overrides that make ``epochs`` epochs of the variant's plan."""
    if variant == "sigmoid_mlp":
        per_epoch = VARIANTS[variant].defaults["log_every"]
        return {"iterations": epochs * per_epoch}
    return {"epochs": epochs}


def time_epochs(backend, spec) -> list[float]:
    """Seconds of each epoch, timed as the core times them (inside the iterator only)."""
    iterator = iter(backend.train(spec))
    seconds = []
    for _ in spec.epochs:
        start = time.perf_counter()
        next(iterator)
        seconds.append(time.perf_counter() - start)
    return seconds


def set_torch_threads() -> None:
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(THREADS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads per backend (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per repeat")
    parser.add_argument("--variants", nargs="+", default=sorted(VARIANTS))
    parser.add_argument("--backends", nargs="+")
    parser.add_argument("--data", type=Path, default=REPO / "resources" / "mnist")
    args = parser.parse_args()
    set_torch_threads()
    ensure_data(args.data)
    data = datasets.load(args.data)
    registry = load_backends()
    backends = args.backends or registry.available()
    rows = []
    for repeat in range(args.repeats):
        for variant_name in args.variants:
            variant = VARIANTS[variant_name]
            hp = variant.hyperparameters(short_run(variant_name, args.epochs))
            spec = build_spec(variant, hp, data.train_images, data.train_labels, 0, "cpu")
            order = backends[repeat % len(backends) :] + backends[: repeat % len(backends)]
            for name in order:
                for epoch, seconds in enumerate(time_epochs(registry.get(name), spec)):
                    rows.append(
                        {
                            "variant": variant_name,
                            "backend": name,
                            "repeat": repeat,
                            "epoch": epoch + 1,
                            "seconds": seconds,
                            "threads": THREADS,
                        }
                    )
                print(f"repeat {repeat + 1}: {variant_name} {name} done", file=sys.stderr)
    table = pd.DataFrame(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    summary = table.groupby(["variant", "backend"])["seconds"].agg(["min", "median"])
    numpy = summary.xs("numpy", level="backend")["median"] if "numpy" in backends else None
    print(
        f"\nseconds per epoch, {THREADS} thread(s), {args.repeats} repeats x {args.epochs} epochs"
    )
    print(f"{'variant':<18} {'backend':<8} {'min':>8} {'median':>8} {'vs numpy':>9}")
    for (variant_name, name), row in summary.iterrows():
        ratio = numpy[variant_name] / row["median"] if numpy is not None else float("nan")
        print(f"{variant_name:<18} {name:<8} {row['min']:8.3f} {row['median']:8.3f} {ratio:8.2f}x")
    print(f"\nwrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
