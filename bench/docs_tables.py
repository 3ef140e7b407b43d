"""python bench/docs_tables.py [--check]

Writes the tables of measured numbers in docs/*.md from the CSV files the benchmarks wrote, so a
page cannot say other numbers than its data. docs/data/tables.toml lists each table: the page it
sits in, how it is drawn (``kind``, a function below) and its sources, each a CSV in docs/data/
with the machine that measured it and the command that wrote it. In the page a table is the
block between ``<!-- table: NAME ... -->`` and ``<!-- end table -->``; everything outside the
blocks is left as it is. Each table ends with a line naming its machines, commands and CSVs.

To publish a new measurement: run the benchmark, copy its CSV from bench/out/ over the source in
docs/data/ (or add a source, and the machine it ran on, to tables.toml), then run this script.
``--check`` changes nothing and exits 1 naming every table that differs from its data (the test
suite runs the same check).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "docs" / "data"
MANIFEST = DATA / "tables.toml"
BLOCK = re.compile(r"<!-- table: (?P<name>[\w-]+)[^\n]*-->\n.*?<!-- end table -->", re.DOTALL)
BACKEND_NAMES = {"numpy": "NumPy", "torch": "PyTorch", "jax": "JAX"}


def backend_name(name: str) -> str:
    """``PyTorch`` for ``torch``; ``PyTorch autograd`` for the runner ``torch autograd``."""
    backend, _, implementation = name.partition(" ")
    return " ".join([BACKEND_NAMES.get(backend, backend), implementation]).strip()


def variant_order(variants) -> list[str]:
    """The order config/config.yaml shows the variants' hyperparameters in (its ``variants`` is
    "all"), then any other variant alphabetically."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    listed = [v for v in config["hyperparameters"] if v in set(variants)]
    return listed + sorted(set(variants) - set(listed))


def backend_order(backends) -> list[str]:
    known = [b for b in BACKEND_NAMES if b in set(backends)]
    return known + sorted(set(backends) - set(known))


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def seconds(value: float) -> str:
    """Three significant digits, as the benchmarks measure them: 5.58 s, 0.849 s, 12.4 s."""
    return f"{value:.3g} s"


def factor(value: float) -> str:
    """A speed-up to three significant digits, trailing zeros kept: 4.77x, 9.00x, 32.4x."""
    return f"{value:#.3g}x"


def minutes(total: float) -> str:
    whole, rest = divmod(round(total), 60)
    return f"{whole} min {rest} s" if whole else f"{rest} s"


# --- one function per kind of table: the sources' rows (later sources replace earlier rows
# --- with the same key, where the kind has one) -> a Markdown table


def accuracy_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/accuracy.py's accuracy.csv: mean ± sd over seeds per variant (and recipe) and
    backend, beside the source notebook's figure and the target held to."""
    rows = rows.drop_duplicates(["variant", "recipe", "backend", "device"], keep="last")
    columns = [(b, d) for b in backend_order(rows["backend"]) for d in sorted(set(rows["device"]))]
    columns = [c for c in columns if ((rows["backend"] == c[0]) & (rows["device"] == c[1])).any()]
    header = ["variant", *(f"{backend_name(b)} ({d})" for b, d in columns)]
    header += ["source notebook", "target"]
    body = []
    for variant in variant_order(rows["variant"]):
        for recipe in ("default", "seed"):
            runs = rows[(rows["variant"] == variant) & (rows["recipe"] == recipe)]
            if runs.empty:
                continue
            cells = [f"`{variant}`" if recipe == "default" else f"`{variant}`, notebook's recipe"]
            for backend, device in columns:
                found = runs[(runs["backend"] == backend) & (runs["device"] == device)]
                if found.empty:
                    cells.append("-")
                    continue
                run = found.iloc[0]
                spread = run["accuracy_sd"]  # none from one seed
                sd = f" ± {spread:.4f}" if pd.notna(spread) else " (one seed)"
                cells.append(f"{run['accuracy_mean']:.4f}{sd}")
            first = runs.iloc[0]
            cells.append(
                "-" if pd.isna(first["seed_reported"]) else f"{first['seed_reported']:.4f}"
            )
            cells.append("-" if pd.isna(first["target"]) else f"{first['target']:g}")
            body.append(cells)
    return markdown(header, body)


def lost_classes(runs: pd.DataFrame) -> str:
    """'1 in every run, 9 in seed 0' from each run's classes_lost ('1 9', or '-' for none)."""
    by_class: dict[str, list[int]] = {}
    for seed, lost in zip(runs["seed"], runs["classes_lost"].fillna("-").astype(str)):
        for digit in lost.split():
            if digit != "-":
                by_class.setdefault(digit, []).append(int(seed))
    parts = []
    for digit, seeds in sorted(by_class.items()):
        which = ", ".join(map(str, sorted(seeds)))
        every = len(seeds) == len(runs)
        parts.append(f"{digit} in every run" if every else f"{digit} in seed {which}")
    return ", ".join(parts) or "none"


def init_scale_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/mnn_init_scale.py's mnn_init_scale.csv: test accuracy per seed and the classes lost,
    per initial scale, largest first; the default scale marked."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    default = config["hyperparameters"]["mnn"]["init_scale"]
    zeros = bool(rows["all_zero_logits"].notna().any())
    seeds = sorted(rows["seed"].unique())
    header = ["`init_scale`", f"test accuracy, seeds {' / '.join(map(str, seeds))}"]
    header += ["test images with ten zero logits"] * zeros + ["classes lost (recall < 0.5)"]
    body = []
    for scale, runs in sorted(rows.groupby("init_scale"), key=lambda kv: -kv[0]):
        runs = runs.sort_values("seed")
        name = f"**{scale:g}** (default)" if scale == default else f"{scale:g}"
        cells = [name, " / ".join(f"{a:.4f}" for a in runs["test_accuracy"])]
        if zeros:
            share = runs["all_zero_logits"]
            cells.append(f"{share.min():.2%} to {share.max():.2%}")
        body.append([*cells, lost_classes(runs)])
    return markdown(header, body)


def load_bench(name: str):
    """bench/<name>.py as its command line imports it (bench/ on the path)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(REPO / "bench"))


def speed_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/speed.py's speed.csv on the CPU: seconds per epoch (median) beside each variant's
    source-notebook loop, and each backend's speed-up over it."""
    summary = load_bench("speed").summarise(rows)
    backends = backend_order(summary.loc[summary["kind"] == "backend", "runner"])
    header = ["variant", "epoch", "source notebook's loop"]
    header += [f"{backend_name(b)} (CPU)" if b != "numpy" else "NumPy" for b in backends]
    body = []
    for variant in variant_order(summary["variant"]):
        runs = summary[summary["variant"] == variant].set_index("runner")
        loops = runs[runs["kind"] == "seed"]
        loop_cells = [
            f"{n.removeprefix('seed ')}: {seconds(r['median'])}" for n, r in loops.iterrows()
        ]
        cells = [f"`{variant}`", runs.iloc[0]["unit"], "; ".join(loop_cells) or "none"]
        for backend in backends:
            if backend not in runs.index:
                cells.append("-")
                continue
            run = runs.loc[backend]
            speedup = f", {factor(run['speedup_vs_seed'])}" if run["seed_loop"] else ""
            cells.append(seconds(run["median"]) + speedup)
        body.append(cells)
    return markdown(header, body)


def devices_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/speed.py --devices cpu cuda: per backend, seconds per epoch on each device (on a GPU
    with the variant's whole default run beside it) and the GPU's speed-up over the host's CPU."""
    summary = load_bench("speed").summarise(rows)
    header, columns = ["variant"], []
    for backend in backend_order(summary["runner"]):
        devices = set(summary.loc[summary["runner"] == backend, "device"])
        for device in sorted(devices - {"cpu"}) + ["cpu"] * ("cpu" in devices):
            columns.append((backend, device, "time"))
            header.append(f"{backend_name(backend)} ({device})")
        if "cpu" in devices and len(devices) > 1:
            columns.append((backend, max(devices - {"cpu"}), "speedup"))
            header.append(f"{backend_name(backend)} speed-up")
    body = []
    for variant in variant_order(summary["variant"]):
        runs = summary[summary["variant"] == variant].set_index(["runner", "device"])
        cells = [f"`{variant}`"]
        for backend, device, what in columns:
            if (backend, device) not in runs.index:
                cells.append("-")
            elif what == "speedup":
                cells.append(factor(runs.loc[(backend, device), "speedup_vs_cpu"]))
            elif device == "cpu":
                cells.append(seconds(runs.loc[(backend, device), "median"]))
            else:
                run = runs.loc[(backend, device)]
                cells.append(f"{seconds(run['median'])} ({seconds(run['full_run_s'])} a run)")
        body.append(cells)
    return markdown(header, body)


def floor_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/floor.py's floor.csv: per variant and backend, microseconds per step of the kernels
    its framework cannot skip, of the whole step, their ratio and, over 1.5, why."""
    rows = rows.drop_duplicates(["variant", "backend"], keep="last")
    header = ["variant", "backend", "floor (µs)", "step (µs)", "ratio", "why over 1.5"]
    body = []
    for variant in variant_order(rows["variant"]):
        runs = rows[rows["variant"] == variant].set_index("backend")
        for backend in backend_order(runs.index):
            run = runs.loc[backend]
            numbers = [run["floor_us"], run["step_us"]]
            cells = ["-" if pd.isna(v) else f"{v:,.1f}" for v in numbers]
            ratio = "-" if pd.isna(run["ratio"]) else f"{run['ratio']:.2f}"
            why = "" if pd.isna(run["why"]) else run["why"]
            body.append([f"`{variant}`", backend_name(backend), *cells, ratio, why])
    return markdown(header, body)


def mutation_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/mutation.py's mutation.csv: per module, mutants, killed, and the score with and
    without the survivors judged equivalent (and, where any, styling only)."""
    rows = rows.drop_duplicates("module", keep="last")
    header = ["module", "mutants", "killed", "score", "without equivalent", "and styling"]
    body = []
    for row in rows.itertuples(index=False):
        styling = f"{row.score_without_styling:.3f}" if row.styling else "-"
        body.append(
            [f"`{row.module}`", str(row.mutants), str(row.killed), f"{row.score:.3f}"]
            + [f"{row.score_without_equivalent:.3f}", styling]
        )
    return markdown(header, body)


def idx_parse_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/idx_parse.py's idx_parse.csv: seconds to verify and parse all of MNIST, per case."""
    header = ["case", "images", "MB", "median", "best", "images per second"]
    body = [
        [f"`{r.case}`", f"{r.images:,}", f"{r.payload_mb:g}", f"{r.median_s:.3f} s"]
        + [f"{r.best_s:.3f} s", f"{r.images_per_s:,}"]
        for r in rows.itertuples(index=False)
    ]
    return markdown(header, body)


MAKE_RUN_PARTS = {
    "prepare": "prepare",
    "setup": "set-up",
    "score": "scoring",
    "checkpoints": "checkpoints",
    "start": "start",
    "evaluate": "evaluate",
    "other": "other",
}


def make_run_table(rows: pd.DataFrame, options: dict) -> str:
    """bench/make_run.py's make_run.csv: per measurement, the wall time, the training per core,
    their ratio, and the seconds outside training by part, each per core (core-seconds over
    the cores), so the parts and the training add up to the wall time; last, the learning
    curves' scoring as a share of the training it describes."""
    header = ["measured", "runs", "wall time", "training per core", "ratio"]
    header += [f"{name} (s)" for name in MAKE_RUN_PARTS.values()]
    header += ["scoring / training"]
    body = []
    for row in rows.to_dict("records"):
        cores = row["cores"]
        cells = [f"{row['label']}", str(row["runs"]), minutes(row["wall_seconds"])]
        cells += [f"{row['training_core_seconds'] / cores:.0f} s", f"{row['ratio']:.2f}"]
        cells += [f"{row[f'{part}_core_seconds'] / cores:.1f}" for part in MAKE_RUN_PARTS]
        cells += [f"{row['score_core_seconds'] / row['training_core_seconds']:.1%}"]
        body.append(cells)
    return markdown(header, body)


def as_written_table(rows: pd.DataFrame, options: dict) -> str:
    """A benchmark's CSV as it wrote it, every column in its order (bench/seed_plan.py's)."""
    body = [["" if pd.isna(v) else str(v) for v in row] for row in rows.itertuples(index=False)]
    return markdown(list(rows.columns), body)


KINDS: dict[str, Callable[[pd.DataFrame, dict], str]] = {
    "accuracy": accuracy_table,
    "init_scale": init_scale_table,
    "speed": speed_table,
    "devices": devices_table,
    "floor": floor_table,
    "mutation": mutation_table,
    "idx_parse": idx_parse_table,
    "make_run": make_run_table,
    "as_written": as_written_table,
}


def manifest(path: Path = MANIFEST) -> dict[str, dict]:
    return tomllib.loads(path.read_text())


def provenance(sources: list[dict]) -> str:
    """The line under a table: which machine ran which command, and the CSV it wrote."""
    parts = [f"{s['machine']}, `{s['command']}` ([{s['csv']}](data/{s['csv']}))" for s in sources]
    return "Measured on " + "; ".join(parts) + "."


def render_table(name: str, spec: dict, data: Path = DATA) -> str:
    """The whole block of table ``name``, its markers included."""
    rows = pd.concat([pd.read_csv(data / s["csv"]) for s in spec["sources"]], ignore_index=True)
    table = KINDS[spec["kind"]](rows, spec.get("options", {}))
    return (
        f"<!-- table: {name} (written by bench/docs_tables.py from docs/data/; edit those) -->\n"
        f"{table}\n\n{provenance(spec['sources'])}\n<!-- end table -->"
    )


def render_page(text: str, tables: dict[str, dict], data: Path = DATA) -> str:
    """``text`` with every table block replaced by what its data say; a block that names no
    table in the manifest is an error, so a renamed table cannot go stale unnoticed."""

    def block(match: re.Match) -> str:
        name = match["name"]
        if name not in tables:
            raise SystemExit(f"docs_tables: the page has a table {name!r}: not in {MANIFEST.name}")
        return render_table(name, tables[name], data)

    return BLOCK.sub(block, text)


def pages(tables: dict[str, dict]) -> dict[Path, list[str]]:
    found: dict[Path, list[str]] = {}
    for name, spec in tables.items():
        found.setdefault(REPO / spec["page"], []).append(name)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args()
    tables = manifest()
    stale = []
    for page, names in pages(tables).items():
        text = page.read_text()
        missing = [n for n in names if f"<!-- table: {n} " not in text]
        if missing:
            sys.exit(f"docs_tables: {page.relative_to(REPO)} has no block for {', '.join(missing)}")
        new = render_page(text, tables)
        if new != text:
            stale.append(str(page.relative_to(REPO)))
            if not args.check:
                page.write_text(new)
    verb = "differ from their data" if args.check else "rewritten"
    print(f"{', '.join(stale)}: {verb}" if stale else "every table matches its data")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
