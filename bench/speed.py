"""python bench/speed.py [--quick] [--threads 1] [--repeats 3] [--epochs 2] [--samples N] [...]

Seconds per epoch of every installed backend on every variant, full MNIST, beside the seed
notebook's own training loop for that variant (``bench/seed_loops``), all in one process with the
same thread count: what the core times in a real run (the time inside the backend's epoch
iterator; set-up and compilation before the first epoch are not counted, and are shown apart as
``set-up``), and the same epochs of the seed's loop on the same data from the same initial
weights. Each implementation a backend offers for the variant is a runner of its own (``torch``
is its tuned steps, ``torch autograd`` and ``torch compiled`` the others; ``--implementations``
narrows them).
Repeats are interleaved (each repeat trains every backend and seed loop once, in a rotated order)
so drift on a busy machine shows in the spread instead of favouring one of them. Prints the min
and median seconds per epoch and, as ``asv compare`` does, the ratio of the median to the seed
loop's (below 1: faster than the seed; marked ``-`` when faster by more than 10%, ``+`` when
slower by more than 10%) and its inverse, the speed-up; also the median's speed-up over the NumPy
backend and the seconds the variant's whole default run takes at that median. Writes
bench/out/speed.csv with every epoch measured.

An "epoch" is what the variant's plan calls one (see ``python -m mnistbench variants``), for the
seed loops as for the backends: 60,000 samples for mlp, mnn and predictive_coding, ``log_every``
(500) iterations of 128 samples for sigmoid_mlp, one pass over ``train_samples`` (1,000) images
for dropout_mlp. A backend is compared with the seed loop of its own framework where the variant
has one (mlp's NumPy and PyTorch twins), else with the variant's seed loop; predictive_coding has
no runnable seed loop and prints its times alone. Data come from resources/mnist, fetched first
if missing (MNISTBENCH_MIRROR, then the configured mirrors).
"""

from __future__ import annotations

import argparse
import os
import sys

from mnistbench.plugin import threads  # loads no numeric library

# Threads are fixed before NumPy, PyTorch or JAX load, by the mechanism the workflow's jobs use
# (each backend applies its framework's own controls): every backend gets the same number.
_threads = next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), None)
if _threads is None and "--threads" in sys.argv:
    _threads = sys.argv[sys.argv.index("--threads") + 1]
THREADS = threads.limit(int(_threads or 1))
# JAX would reserve 75% of a GPU's memory on first sight, leaving PyTorch's runs in this process
# short of it.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mnistbench.data import datasets  # noqa: E402
from mnistbench.plugin.backend import default_implementation, implementations  # noqa: E402
from mnistbench.plugin.registry import load_backends  # noqa: E402
from mnistbench.training.train import build_spec  # noqa: E402
from mnistbench.variants import VARIANTS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "speed.csv"
sys.path.insert(0, str(REPO / "bench"))
from accuracy import ensure_data  # noqa: E402
from seed_loops import LOOPS, baseline  # noqa: E402

QUICK = {"epochs": 1, "repeats": 2}  # --quick: a few minutes on one core
MARK = 1.1  # asv compare's default factor: ratios beyond it either way are marked


def short_run(variant: str, epochs: int) -> dict:
    """Hyperparameter overrides that make ``epochs`` epochs of the variant's plan."""
    if variant == "sigmoid_mlp":
        per_epoch = VARIANTS[variant].defaults["log_every"]
        return {"iterations": epochs * per_epoch}
    return {"epochs": epochs}


def epoch_unit(variant: str, n_train: int) -> str:
    """What one epoch of the variant's plan is, in the table's words."""
    hp = VARIANTS[variant].hyperparameters()
    if variant == "sigmoid_mlp":
        return f"{hp['log_every']} steps of {hp['batch_size']}"
    if variant == "dropout_mlp":
        return f"{min(hp['train_samples'], n_train):,} samples of 1"
    return f"{n_train:,} samples of {hp['batch_size']}"


def full_run_epochs(variant: str) -> int:
    """Epochs in the variant's whole default run (sigmoid_mlp: 10,000 / 500 = 20)."""
    hp = VARIANTS[variant].hyperparameters()
    if variant == "sigmoid_mlp":
        return -(-hp["iterations"] // hp["log_every"])
    return hp["epochs"]


def time_each_epoch(run_epoch, epochs: int) -> list[float]:
    """Seconds of each call ``run_epoch(epoch)``, for epochs 0 to ``epochs - 1`` in order."""
    seconds = []
    for epoch in range(epochs):
        start = time.perf_counter()
        run_epoch(epoch)
        seconds.append(time.perf_counter() - start)
    return seconds


def time_epochs(backend, spec) -> tuple[list[float], float]:
    """Seconds of each epoch, timed as the core times them: each ``train_epoch`` call of the
    trainer ``setup`` returns; and the seconds of the set-up, apart."""
    start = time.perf_counter()
    trainer = backend.setup(spec)
    setup = time.perf_counter() - start
    return time_each_epoch(trainer.train_epoch, len(spec.epochs)), setup


def time_seed_epochs(loop, spec) -> tuple[list[float], float]:
    """Seconds of each epoch of a seed loop, and of its set-up (data conversion), apart."""
    start = time.perf_counter()
    run_epoch = loop.prepare(spec)
    setup = time.perf_counter() - start
    return time_each_epoch(run_epoch, len(spec.epochs)), setup


def runner_name(backend, implementation: str) -> str:
    """``torch`` for a backend's default implementation, ``torch autograd`` for another."""
    default = implementation == default_implementation(backend)
    return backend.name if default else f"{backend.name} {implementation}"


def runners(
    variant: str,
    registry,
    backends: list[str],
    devices: list[str],
    seed_loops: bool,
    wanted: list[str] | None = None,
) -> list[tuple]:
    """(name, device, kind, time(spec)) for the variant's seed loops (on the CPU) and each backend
    implementing it, on each of ``devices`` it can use here, once per implementation it offers
    for the variant (those in ``wanted``, where given)."""
    found = []
    for loop in LOOPS.get(variant, []) if seed_loops else []:
        timer = lambda spec, loop=loop: time_seed_epochs(loop, spec)  # noqa: E731
        found.append((loop.name, "cpu", "seed", timer))
    for name in backends:
        backend = registry.get(name)
        if variant not in backend.variants:
            continue
        offered = [i for i in implementations(backend, variant) if not wanted or i in wanted]
        for device in (d for d in devices if d in backend.devices()):
            for implementation in offered:
                run = {"device": device, "implementation": implementation}
                timer = lambda spec, b=backend, r=run: time_epochs(b, replace(spec, **r))  # noqa: E731
                found.append((runner_name(backend, implementation), device, "backend", timer))
    return found


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, runner): min and median s/epoch, the ratio to the seed loop (asv's
    after/before), the speed-up over it, over the NumPy backend, and a whole default run."""
    if "setup_seconds" not in table:
        table = table.assign(setup_seconds=float("nan"))
    summary = (
        table.groupby(["variant", "runner", "device", "kind", "unit"], sort=False)
        .agg(
            min=("seconds", "min"),
            median=("seconds", "median"),
            setup=("setup_seconds", "median"),
        )
        .reset_index()
        .sort_values(["variant", "kind", "runner"], ascending=[True, False, True])
    )  # seeds first; a backend's devices in the order asked for (a multi-key sort is stable)
    median = summary.set_index(["variant", "runner", "device"])["median"]
    rows = []
    for row in summary.itertuples(index=False):
        framework = row.runner.split()[0]  # "torch autograd": the torch backend's autograd
        loop = baseline(row.variant, framework) if row.kind == "backend" else None
        seed = median.get((row.variant, loop.name, "cpu")) if loop else None
        numpy = median.get((row.variant, "numpy", "cpu"))
        cpu = median.get((row.variant, row.runner, "cpu")) if row.device != "cpu" else None
        ratio = row.median / seed if seed else float("nan")
        rows.append(
            {
                **row._asdict(),
                "seed_loop": loop.name if seed else "",
                "ratio": ratio,
                "mark": "-" if ratio < 1 / MARK else "+" if ratio > MARK else "",
                "speedup_vs_seed": 1 / ratio,
                "speedup_vs_numpy": numpy / row.median if numpy else float("nan"),
                "speedup_vs_cpu": cpu / row.median if cpu else float("nan"),
                "full_run_s": row.median * full_run_epochs(row.variant),
            }
        )
    return pd.DataFrame(rows)


def label(runner: str, device: str) -> str:
    """A runner as the table names it: the backend, with its device unless that is the CPU."""
    return runner if device == "cpu" else f"{runner} ({device})"


def print_table(summary: pd.DataFrame, args) -> None:
    print(
        f"\nseconds per epoch, {THREADS} CPU thread(s), {args.repeats} interleaved repeats x "
        f"{args.epochs} epochs; ratio = median / seed loop's median (asv compare's after/before)"
    )
    on_devices = (summary["device"] != "cpu").any()
    header = (
        f"{'variant':<18} {'runner':<17} {'epoch':<22} {'min':>7} {'median':>7} "
        f"{'ratio':>7} {'speed-up':>9} {'vs numpy':>9} {'full run':>9} {'set-up':>7}"
        + (f" {'vs cpu':>8}" if on_devices else "")
    )
    print(header)
    print("-" * len(header))
    for row in summary.itertuples(index=False):
        ratio = f"{row.mark:1}{row.ratio:6.2f}" if row.seed_loop else ""
        speedup = f"{row.speedup_vs_seed:8.2f}x" if row.seed_loop else ""
        vs_numpy = f"{row.speedup_vs_numpy:8.2f}x" if row.kind == "backend" else ""
        vs_cpu = f"{row.speedup_vs_cpu:7.2f}x" if row.speedup_vs_cpu == row.speedup_vs_cpu else ""
        print(
            f"{row.variant:<18} {label(row.runner, row.device):<17} {row.unit:<22} "
            f"{row.min:7.3f} {row.median:7.3f} {ratio:>7} {speedup:>9} {vs_numpy:>9} "
            f"{row.full_run_s:8.1f}s {row.setup:6.2f}s" + (f" {vs_cpu:>8}" if on_devices else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads per runner (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per repeat")
    parser.add_argument(
        "--quick", action="store_true", help="one epoch, two repeats: a few minutes on one core"
    )
    parser.add_argument("--variants", nargs="+", default=sorted(VARIANTS))
    parser.add_argument("--backends", nargs="+")
    parser.add_argument(
        "--implementations", nargs="+", help="e.g. tuned autograd (default: every one offered)"
    )
    parser.add_argument(
        "--devices",
        nargs="+",
        default=["cpu"],
        help="devices each backend trains on where it can (default cpu; e.g. cpu cuda)",
    )
    parser.add_argument(
        "--no-seed-loops", dest="seed_loops", action="store_false", help="backends only"
    )
    parser.add_argument(
        "--samples",
        type=int,
        help="train on the first N images only: shorter epochs, so more repeats on a busy machine",
    )
    parser.add_argument("--data", type=Path, default=REPO / "resources" / "mnist")
    parser.add_argument("--out", type=Path, default=OUT, help="the CSV to write")
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    ensure_data(args.data)
    data = datasets.load(args.data, train_limit=args.samples)
    registry = load_backends()
    backends = args.backends or registry.available()
    rows = []
    for repeat in range(args.repeats):
        for variant_name in args.variants:
            variant = VARIANTS[variant_name]
            hp = variant.hyperparameters(short_run(variant_name, args.epochs))
            spec = build_spec(variant, hp, data.train_images, data.train_labels, 0, "cpu")
            unit = epoch_unit(variant_name, len(data.train_images))
            entrants = runners(
                variant_name,
                registry,
                backends,
                args.devices,
                args.seed_loops,
                args.implementations,
            )
            shift = repeat % len(entrants)
            for name, device, kind, timer in entrants[shift:] + entrants[:shift]:
                epoch_seconds, setup = timer(spec)
                for epoch, seconds in enumerate(epoch_seconds):
                    rows.append(
                        {
                            "variant": variant_name,
                            "runner": name,
                            "device": device,
                            "kind": kind,
                            "unit": unit,
                            "repeat": repeat,
                            "epoch": epoch + 1,
                            "seconds": seconds,
                            "setup_seconds": setup,
                            "threads": THREADS,
                        }
                    )
                print(
                    f"repeat {repeat + 1}: {variant_name} {label(name, device)} done",
                    file=sys.stderr,
                )
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print_table(summarise(table), args)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
