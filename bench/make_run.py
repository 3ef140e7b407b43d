"""python bench/make_run.py [--config config/config.yaml] [--cores 2] [--label NAME] [--keep DIR]

The whole experiment as a user runs it, and where its time goes: clones this checkout's HEAD
into a fresh folder (no results, no data: the fetch jobs read ``MNISTBENCH_MIRROR`` or the
configured mirrors), runs ``snakemake --cores N --configfile CONFIG`` there with this
interpreter's Snakemake, and times it. Then it reads every run's records and splits the
``wall x cores`` core-seconds the experiment had into:

- ``training``: inside the backends' ``train_epoch`` calls (``history.csv``), what the
  experiment is for;
- the train jobs' time around it (``train.json``'s ``seconds_outside_training``): ``prepare``
  (data read, inputs scaled, initial weights and plan), ``setup`` (the backend's: transfers,
  compilation), ``score`` (the test set after the epochs of the learning curve),
  ``checkpoints``, and ``start`` (the rest of the job's wall time in its Snakemake benchmark:
  interpreter start, imports, writing the outputs, exit);
- ``evaluate``: the evaluate jobs' wall time;
- ``other``: the rest of ``wall x cores``: the fetch, aggregate and report jobs, Snakemake's
  own work between jobs, and cores left idle (at the end, when fewer jobs than cores remain).

``ratio`` is the wall time over the runs' summed training seconds divided by the cores: 1.0 would
be training alone, perfectly packed. Prints the table and appends a row to
bench/out/make_run.csv (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from mnistbench.report.aggregate import job_wall_seconds
from mnistbench.training.provenance import cpu_model

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "make_run.csv"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PHASES = {"prepare": "prepare", "setup": "setup", "score": "score", "after_epoch": "checkpoints"}


def run_rows(results: Path) -> pd.DataFrame:
    """One row per finished run: its training seconds, its jobs' wall seconds and the phases of
    its train job outside training."""
    rows = []
    for info_path in sorted(results.rglob("train.json")):
        run_dir, info = info_path.parent, json.loads(info_path.read_text())
        training = float(pd.read_csv(run_dir / "history.csv")["seconds"].sum())
        outside = info.get("seconds_outside_training", {})
        train_job = job_wall_seconds(run_dir, "train")
        row = {"variant": info["variant"], "backend": info["backend"], "training": training}
        row |= {name: float(outside.get(key, 0.0)) for key, name in PHASES.items()}
        row["start"] = train_job - training - sum(row[name] for name in PHASES.values())
        row["evaluate"] = job_wall_seconds(run_dir, "evaluate")
        rows.append(row)
    return pd.DataFrame(rows)


def breakdown(runs: pd.DataFrame, wall: float, cores: int) -> dict[str, float]:
    """Core-seconds per part (see the module's docstring), ``other`` what is left of them."""
    parts = {name: float(runs[name].sum()) for name in ["training", *PHASES.values(), "start"]}
    parts["evaluate"] = float(runs["evaluate"].sum())
    parts["other"] = wall * cores - sum(parts.values())
    return parts


def run_experiment(config: str, cores: int, folder: Path) -> float:
    """Clone HEAD into ``folder``, run the experiment there; its wall seconds."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder)], check=True)
    command = [str(SNAKEMAKE), "--cores", str(cores), "--configfile", config, "--quiet"]
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True)
    return time.perf_counter() - start


def print_table(row: dict, parts: dict[str, float]) -> None:
    cores, wall = row["cores"], row["wall_seconds"]
    print(f"\n{row['command']}: {row['runs']} runs on {cores} cores of a {row['cpu']}")
    print(f"wall {wall:.0f} s; training {parts['training']:.0f} s summed over the runs, "
          f"{parts['training'] / cores:.0f} s per core; ratio {row['ratio']:.3f}")  # fmt: skip
    table = pd.DataFrame(
        {
            "core-seconds": parts,
            "wall seconds (/ cores)": {k: v / cores for k, v in parts.items()},
            "share of wall x cores": {k: v / (wall * cores) for k, v in parts.items()},
        }
    )
    print(table.round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--label", default="", help="a name for this measurement's row")
    parser.add_argument("--keep", type=Path, help="run in this (new) folder and keep it")
    parser.add_argument("--out", type=Path, default=OUT, help="the CSV to append to")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mnistbench-make-run-") as scratch:
        folder = args.keep or Path(scratch) / "clone"
        wall = run_experiment(args.config, args.cores, folder)
        runs = run_rows(folder / "results")
    parts = breakdown(runs, wall, args.cores)
    row = {
        "label": args.label,
        "command": f"snakemake --cores {args.cores} --configfile {args.config}",
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip(),
        "cpu": cpu_model(),
        "cores": args.cores,
        "runs": len(runs),
        "wall_seconds": wall,
        "ratio": wall / (parts["training"] / args.cores),
    }
    row |= {f"{name}_core_seconds": seconds for name, seconds in parts.items()}
    print_table(row, parts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([row])
    table.to_csv(args.out, mode="a", header=not args.out.exists(), index=False)
    runs.to_csv(args.out.with_name(args.out.stem + "-runs.csv"), index=False)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
