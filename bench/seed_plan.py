"""python bench/seed_plan.py [--variants mlp dropout_mlp sigmoid_mlp] [--backends numpy jax]

Runs used, and decisions reached, by a seed plan against a fixed 10 seeds on the same experiment.

The real Snakemake runs the workflow (a copy, in bench/out/seed-plan/) twice on the quick
experiment's sizes (config/quick.yaml: 4,000 training and 1,000 test images, each variant cut to
a few hundred steps): first with ``seeds: [0, ..., 9]``, then with the rule
``seeds: {first: 3, step: 1, max: 10, until: decided}``. The rule's seeds are the first seeds of
the fixed ten, the same runs, so its second pass trains nothing and only looks: the runs it used
are counted from its plan, and the compute they cost is the runs' own measured job seconds
(Snakemake's benchmark of each train and evaluate job).

Per comparison with the baseline (accuracy on the same test images, train speed run to run), the
table gives the rule's decision, the seeds it used and its interval (the anytime-valid confidence
sequence, docs/seed-plans.md), beside what ten fixed seeds decide with an ordinary Student's t
interval at 95% and the same margins, and whether the two agree. Prints the tables and writes
bench/out/seed_plan.csv (the decisions) and bench/out/seed_plan_runs.csv (the runs each used).
Data come from MNISTBENCH_MIRROR, then the configured mirrors.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from scipy import stats

from mnistbench.plan.experiment import Run
from mnistbench.plan.seed_plan import SeedPlan
from mnistbench.report import seed_look, sequential

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
FIXED = list(range(10))
RULE = SeedPlan(first=3, max=10, step=1)


def copy_workflow(work: Path) -> None:
    """The Snakefile, config/ and workflow/ of this checkout in ``work`` (results kept)."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", work)
    for folder in ("config", "workflow"):
        shutil.rmtree(work / folder, ignore_errors=True)
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))


def snakemake(work: Path, config: list[str]) -> None:
    """Run the workflow on the quick experiment with ``config`` entries."""
    command = [str(Path(sys.executable).parent / "snakemake"), "--cores", "all"]
    command += ["--configfile", "config/quick.yaml", "--config", *config]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"seed_plan: snakemake failed:\n{(done.stdout + done.stderr)[-3000:]}")


def job_seconds(work: Path, runs: list[Run]) -> float:
    """The measured wall seconds of ``runs``' train and evaluate jobs."""
    total = 0.0
    for run in runs:
        for step in ("train", "evaluate"):
            table = work / run.directory / f"{step}_benchmark.tsv"
            total += pd.read_csv(table, sep="\t")["s"].sum()
    return total


def fixed_decision(values: list[float], margin: float, floor: float) -> tuple[str, float, float]:
    """What a fixed number of seeds decides: Student's t interval at 95%, the same margins."""
    n, mean = len(values), sum(values) / len(values)
    spread = max(pd.Series(values).std(ddof=1), floor)
    half = stats.t.ppf(0.975, n - 1) * spread / math.sqrt(n)
    low, high = mean - half, mean + half
    if low > 0 or high < 0:
        return sequential.DIFFERENCE, low, high
    if -margin < low and high < margin:
        return sequential.EQUIVALENT, low, high
    return sequential.UNDECIDED, low, high


def compare(work: Path) -> tuple[pd.DataFrame, list[Run], list[Run]]:
    """(the decisions side by side, the rule's runs, the fixed runs)."""
    rows, rule_runs, fixed_runs = [], [], []
    for path in sorted((work / "results" / "seed_plan").rglob("after_*_seeds.json")):
        look = json.loads(path.read_text())
        final = work / "results" / "seed_plan" / look["dataset"] / look["variant"] / look["point"]
        if path != final / f"after_{max(_counts(final))}_seeds.json":
            continue  # an earlier look of the cell
        folder = work / "results" / look["dataset"] / look["variant"]
        runs = [Run.from_directory(p.parent) for p in folder.glob("*/*/seed*/metrics.json")]
        runs = [r for r in runs if r.point == look["point"] and r.seed in FIXED]
        fixed_runs += runs
        rule_runs += [r for r in runs if r.seed < look["seeds"]]
        _, found = seed_look.read_cell([work / r.directory for r in runs], len(FIXED))
        margins = {"accuracy": RULE.margins["accuracy"], "speed": RULE.speed_margin}
        for decided in look["comparisons"]:
            values = seed_look.per_seed(found[look["baseline"]], found[decided["backend"]])
            measure = decided["measure"]
            spread = values[measure]
            reading, low, high = fixed_decision(spread[0], margins[measure], floor=spread[1])
            scale = math.exp if measure == "speed" else (lambda x: x)
            rows.append(
                {
                    "variant": look["variant"],
                    "backend": decided["backend"],
                    "measure": measure,
                    "rule: seeds used": decided["seeds"],
                    "rule: decision": decided["reading"],
                    "rule: interval": f"[{decided['low']:.4g}, {decided['high']:.4g}]",
                    "fixed 10: decision": reading,
                    "fixed 10: interval": f"[{scale(low):.4g}, {scale(high):.4g}]",
                    "agree": "yes" if reading == decided["reading"] else "no",
                }
            )
    return pd.DataFrame(rows), rule_runs, fixed_runs


def _counts(folder: Path) -> list[int]:
    return [int(p.name.split("_")[1]) for p in folder.glob("after_*_seeds.json")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    parser.add_argument("--variants", nargs="+", default=["mlp", "dropout_mlp", "sigmoid_mlp"])
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax"])
    parser.add_argument("--work", type=Path, default=OUT / "seed-plan")
    args = parser.parse_args()
    copy_workflow(args.work)
    grid = [f"backends=[{','.join(args.backends)}]", f"variants=[{','.join(args.variants)}]"]
    snakemake(args.work, [*grid, f"seeds=[{','.join(map(str, FIXED))}]"])
    rule = f"seeds={{first: {RULE.first}, step: {RULE.step}, max: {RULE.max}, until: decided}}"
    snakemake(args.work, [*grid, rule])
    table, rule_runs, fixed_runs = compare(args.work)
    used = pd.DataFrame(
        [
            {
                "seeds": label,
                "runs": len(runs),
                "train and evaluate job seconds": round(job_seconds(args.work, runs), 1),
                "decisions agreeing": f"{(table['agree'] == 'yes').sum()} of {len(table)}",
            }
            for label, runs in (
                (f"rule: {rule.removeprefix('seeds=')}", rule_runs),
                (f"fixed: {FIXED[0]} to {FIXED[-1]}", fixed_runs),
            )
        ]
    )
    OUT.mkdir(exist_ok=True)
    table.to_csv(OUT / "seed_plan.csv", index=False)
    used.to_csv(OUT / "seed_plan_runs.csv", index=False)
    print(table.to_string(index=False), used.to_string(index=False), sep="\n\n")


if __name__ == "__main__":
    main()
