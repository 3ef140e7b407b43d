"""python bench/plan_scale.py [--plan 100 1000 5000 10000] [--report 1000 5000]

How planning, aggregating and reporting scale with the number of runs of a sweep.

- ``plan``: ``snakemake -n --quiet`` on a copy of the workflow whose config sweeps mlp on NumPy
  over a grid of batch sizes and learning rates with one seed, N points: wall seconds, CPU
  seconds and peak memory (resident, of Snakemake's process) to build and check the DAG of N
  train and N evaluate jobs. Nothing runs.
- ``aggregate`` and ``report``: the two commands on N finished runs: one real run (mlp, two
  epochs on the MNIST sample of tests/data, trained and evaluated by the real steps) copied into
  N synthetic run folders over three backends, two seeds and N/6 points, each with its own
  accuracy; wall seconds and peak memory of each command, and the report's size.

Prints a table and writes bench/out/plan_scale.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "plan_scale.csv"
SAMPLE = REPO / "tests" / "data" / "mnist-sample"
BIN = Path(sys.executable).parent


def measured(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak resident MiB) of ``command``, which must succeed.

    CPU seconds (user and system, of the command and its children) are what a busy machine
    shared with others changes least; the wall seconds grow with the load average."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"plan_scale: {' '.join(command[:4])} failed: {process.stderr.read()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def grid(n: int) -> dict[str, list]:
    """A batch-size x learning-rate grid of exactly ``n`` points."""
    sizes = [b for b in range(1, int(math.sqrt(n)) + 1) if n % b == 0][-1]
    return {
        "batch_size": list(range(1, sizes + 1)),
        "lr": [round(0.001 * (i + 1), 6) for i in range(n // sizes)],
    }


def plan_time(n: int, work: Path) -> dict:
    """Snakemake's dry run of an N-point sweep in a copy of the workflow."""
    for name in ("Snakefile", "config", "workflow"):
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, work / name)
    sweep = {"variants": ["mlp"], "backends": ["numpy"], "seeds": [0], "sweeps": {"mlp": grid(n)}}
    (work / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    command = [str(BIN / "snakemake"), "-n", "--quiet", "--cores", "1", "--configfile"]
    seconds, cpu, mib = measured([*command, "config/config.yaml", "sweep.yaml"], work)
    return {"step": "plan (snakemake -n)", "runs": n, "seconds": seconds, "cpu_seconds": cpu,
            "peak_mib": mib}  # fmt: skip


def template_run(work: Path) -> Path:
    """One real finished run of mlp on the MNIST sample."""
    from mnistbench.data import datasets, fetch
    from mnistbench.evaluation import evaluate
    from mnistbench.training import train

    spec = yaml.safe_load((SAMPLE / "dataset.yaml").read_text())["mnist-sample"]["files"]
    data = work / "resources"
    for role, file in spec.items():
        fetch.fetch(file["name"], file["sha256"], datasets.role_path(data, role), [str(SAMPLE)])
    run = work / "template"
    train.run(
        data=data, dataset="mnist-sample", variant="mlp", backend="numpy", seed=0, out=run,
        hyperparameters={"epochs": 2},
    )  # fmt: skip
    evaluate.run(data=data, run_dir=run)
    return run


def synthetic_runs(template: Path, n: int, root: Path) -> list[Path]:
    """``n`` run folders copied from ``template``: three backends, two seeds, n/6 points (and a
    Snakemake benchmark file of 5 s each, which the real run, made without Snakemake, lacks)."""
    metrics = json.loads((template / "metrics.json").read_text())
    rng = np.random.default_rng(0)
    from mnistbench.plan import points

    paths = []
    for i in range(n):
        point = {"batch_size": 2 ** (i // 6 % 11), "lr": round(0.01 * (1 + i // 66), 6)}
        backend, seed = ("numpy", "torch", "jax")[i % 3], i // 3 % 2
        folder = root / "results/mnist/mlp" / backend / points.name(point) / f"seed{seed}"
        folder.mkdir(parents=True)
        own = metrics | {"backend": backend, "seed": seed, "point": point}
        own["test_accuracy"] = float(rng.uniform(0.8, 0.95))
        own["hyperparameters"] = metrics["hyperparameters"] | point
        (folder / "metrics.json").write_text(json.dumps(own))
        shutil.copy(template / "history.csv", folder / "history.csv")
        (folder / "train_benchmark.tsv").write_text("s\th:m:s\tmax_rss\n5.0\t0:00:05\t300.0\n")
        paths.append(folder / "metrics.json")
    return paths


def report_time(n: int, template: Path, work: Path) -> list[dict]:
    paths = synthetic_runs(template, n, work)
    python = [sys.executable, "-m", "mnistbench", "-q"]
    aggregate = [*python, "aggregate", *map(str, paths), "--out", "tables"]
    seconds, cpu, mib = measured(aggregate, work)
    rows = [{"step": "aggregate", "runs": n, "seconds": seconds, "cpu_seconds": cpu,
             "peak_mib": mib}]  # fmt: skip
    report = [*python, "report", "--tables", "tables", "--out", "report.html"]
    seconds, cpu, mib = measured([*report, "--time-to-accuracy", "mlp=0.9"], work)
    size = (work / "report.html").stat().st_size / 2**20
    rows.append({"step": f"report ({size:.1f} MiB page)", "runs": n, "seconds": seconds,
                 "cpu_seconds": cpu, "peak_mib": mib})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=int, nargs="*", default=[100, 1000, 5000, 10000])
    parser.add_argument("--report", type=int, nargs="*", default=[1000, 5000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in args.plan:
            (tmp / f"plan{n}").mkdir()
            rows.append(plan_time(n, tmp / f"plan{n}"))
            print(rows[-1], flush=True)
        if args.report:
            template = template_run(tmp)
            for n in args.report:
                (tmp / f"report{n}").mkdir()
                rows += report_time(n, template, tmp / f"report{n}")
                print(rows[-2:], flush=True)
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown CPU",
    )  # fmt: skip
    head = f"{'step':<32} {'runs':>6} {'seconds':>8} {'CPU s':>7} {'peak MiB':>9}"
    print(f"\n{head}   ({os.cpu_count()} x {cpu})")
    for row in rows:
        print(
            f"{row['step']:<32} {row['runs']:>6} {row['seconds']:>8.1f}"
            f" {row['cpu_seconds']:>7.1f} {row['peak_mib']:>9.0f}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="") as f:
        fields = ["step", "runs", "seconds", "cpu_seconds", "peak_mib", "machine"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({**row, "machine": f"{os.cpu_count()} x {cpu}"} for row in rows)
    print(f"wrote {OUT.relative_to(REPO)}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
