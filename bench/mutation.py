"""python bench/mutation.py [MODULE ...] [--tests-from REF] [--max-children 2] [--label NAME]

Mutation testing of the modules that compute or write what users read: mutmut (the ``bench``
extra: ``pip install -e '.[bench]'``) makes small changes to one module's code (a ``<`` for a
``<=``, a 1 for a 0, a dropped argument), runs that module's fast tests against each change, and
counts the changes some test notices ("killed") and those none does ("survived"). A survivor is
a bug the tests would let through, unless it is equivalent (it changes nothing a user can see)
or, in the report's figures, styling only (a font size, the figure's size, a colour of
decoration: how a figure looks, not a value, label or scale it shows);
``bench/mutation_equivalent.toml`` lists both, each with why.

Modules (all by default): evaluate, aggregate, report, report_tables, report_figures,
report_html, artifacts, idx, datasets, variants (the core's variant modules), statistics, points,
threads, predictions, shapes (each against its own test folder only) and numpy (the NumPy
backend). Each runs in its own staging folder under bench/out/mutation/<label>/<module>/ (inside
this checkout: tests compare the project's commit recorded by runs with the checkout's, so
commit nothing while it runs), laid out as mutmut expects (``src/mnistbench``,
``src/mnistbench_numpy``, ``tests``), with only that module mutated and only its tests run.
``--tests-from REF`` takes the tests from a git revision instead of the working tree (the code
is always the working tree's): how the score was before a change to the tests. ``--again`` runs
only the last run's survivors once more, against the tests as they are now (copied into its
staging folder): after adding tests for survivors, how many they kill, without running every
mutant again. The code must be the same as in that run; mutmut's numbering depends on it.

Prints the score per module (killed / all mutants; a timeout counts as killed, since the tests
stopped the change), and the score without the equivalent and then also without the styling
survivors; writes bench/out/mutation.csv (one row per module and label) and
bench/out/mutants.txt (every surviving mutant's diff, equivalent and styling ones marked).
Slow: minutes per module on two cores, so not part of the test suite or CI.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
EQUIVALENT = REPO / "bench" / "mutation_equivalent.toml"
STAGING = OUT / "mutation"
NUMPY_PLUGIN = "plugins/mnistbench-numpy"

# The fast tests: every unit test but those of the fetch step, the plugin loader and the rules'
# conda environments (HTTP servers and subprocesses, reaching none of the modules below
# in-process; the environments' test also reads the plugins' pyproject.toml files). mutmut runs,
# for each mutant, only the tests among these that called the function it changed.
UNIT = [
    *(f"tests/{stage}" for stage in ("plan", "data", "training", "evaluation", "report")),
    *("tests/plugin", "tests/variants", "tests/test_cli.py", "tests/test_step_errors.py"),
    "tests/test_artifacts.py",
    "--ignore=tests/data/test_fetch.py",
    "--ignore=tests/plugin/test_plugins.py",
    # reads and edits the core package in workflow/mnistbench, which the staging folder has
    # under src/; it checks the fingerprints, none of the modules below
    "--ignore=tests/plan/test_identity.py",
]
BACKEND = [*UNIT, "tests/backends", f"{NUMPY_PLUGIN}/tests"]
# The report's tests, without the one that renders the page in Chromium (it checks the layout at
# a phone's width and sorting by click, no number, and takes seconds per mutant).
REPORT = [
    f"tests/report/test_{name}.py"
    for name in (
        *("report", "report_numbers", "report_html", "report_step", "report_figures"),
        *("report_tables", "report_uncertainty", "report_sweeps", "report_classes", "compare"),
    )
]
# module: (files to mutate, relative to the staging folder; the tests that check them)
MODULES = {
    "evaluate": (["src/mnistbench/evaluation/evaluate.py"], UNIT),
    "aggregate": (["src/mnistbench/report/aggregate.py"], UNIT),
    "report": (["src/mnistbench/report/render.py"], REPORT),
    "report_tables": (["src/mnistbench/report/tables.py"], REPORT),
    "report_figures": (["src/mnistbench/report/figures.py"], REPORT),
    "report_html": (["src/mnistbench/report/html.py"], REPORT),
    "artifacts": (["src/mnistbench/artifacts.py"], UNIT),
    "idx": (["src/mnistbench/data/idx.py"], UNIT),
    "datasets": (["src/mnistbench/data/datasets.py"], UNIT),
    "variants": (["src/mnistbench/variants/*"], BACKEND),
    # Modules whose numbers users read, each against its own folder's tests only.
    "statistics": (
        ["src/mnistbench/report/statistics.py"],
        [
            "tests/report",
            "--ignore=tests/report/test_report_browser.py",
            # runs the real workflow (Snakemake, then `python -m mnistbench`) in a temporary
            # folder, where mutmut cannot find the code it mutated, then reads the page in
            # Chromium: its layout, no number
            "--ignore=tests/report/test_report_screens.py",
        ],
    ),
    "points": (
        ["src/mnistbench/plan/points.py"],
        ["tests/plan", "--ignore=tests/plan/test_identity.py"],
    ),
    "threads": (
        ["src/mnistbench/plugin/threads.py"],
        ["tests/plugin", "--ignore=tests/plugin/test_plugins.py"],
    ),
    "predictions": (["src/mnistbench/evaluation/predictions.py"], ["tests/evaluation"]),
    "shapes": (
        ["src/mnistbench/data/shapes.py"],
        ["tests/data", "--ignore=tests/data/test_fetch.py"],
    ),
    "numpy": (
        ["src/mnistbench_numpy/*"],
        # the predictive-coding tests check the NumPy backend's energy and its gradients
        ["tests/backends", "tests/variants/test_predictive_coding.py", f"{NUMPY_PLUGIN}/tests"],
    ),
}
# Besides the packages and tests: what the tests read from the repository.
ALSO = ["README.md", "Snakefile", "bench", "config", "docs", "workflow"]


def files_at(ref: str | None, path: str, dest: Path) -> None:
    """Copy ``path`` (file or folder) from the working tree, or from git revision ``ref``."""
    if ref is None:
        source = REPO / path
        if source.is_dir():  # not the core package (it goes to src/), nor bench/out
            ignore = shutil.ignore_patterns("__pycache__", "mnistbench", "out")
            shutil.copytree(source, dest / path, ignore=ignore)
        elif source.exists():
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / path)
        return
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, path], capture_output=True, check=False
    )
    if archive.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(dest, filter="data")


def stage(module: str, folder: Path, tests_from: str | None) -> None:
    """A fresh folder with the packages under src/, the tests, and mutmut's configuration."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "workflow" / "mnistbench", folder / "src" / "mnistbench", ignore=ignore)
    # mnistbench.plan.config finds the schemas beside the package, as in workflow/
    shutil.copytree(REPO / "workflow" / "schemas", folder / "src" / "schemas")
    shutil.copytree(
        REPO / NUMPY_PLUGIN / "mnistbench_numpy", folder / "src" / "mnistbench_numpy", ignore=ignore
    )
    for path in ["tests", "plugins/conftest.py", f"{NUMPY_PLUGIN}/tests"]:
        files_at(tests_from, path, folder)
    if tests_from:  # the conformance suite is test code too, though it ships in the package
        testing = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{tests_from}:workflow/mnistbench/plugin/testing.py"],
            capture_output=True,
            text=True,
            check=True,
        )
        (folder / "src" / "mnistbench" / "testing.py").write_text(testing.stdout)
    for path in ALSO:
        files_at(None, path, folder)
    write_config(module, folder)


def write_config(module: str, folder: Path) -> None:
    """mutmut's configuration in ``folder``: what to mutate and which of the tests there to run."""
    mutate, tests = MODULES[module]
    selected = [t for t in tests if t.startswith("-") or (folder / t).exists()]
    pytest_options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    config = {
        "source_paths": ["src"],
        "only_mutate": mutate,
        "also_copy": [*ALSO, NUMPY_PLUGIN, "plugins/conftest.py"],  # the folder first
        "pytest_add_cli_args_test_selection": selected,
        "pytest_add_cli_args": ["-p", "no:cacheprovider"],
    }
    (folder / "pyproject.toml").write_text(
        toml_section("tool.pytest.ini_options", pytest_options["ini_options"])
        + toml_section("tool.mutmut", config)
    )


def toml_section(name: str, values: dict) -> str:
    """A TOML table of strings and lists of strings (JSON spells both as TOML does)."""
    lines = [f"[{name}]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n\n"


def run_mutmut(folder: Path, max_children: int) -> float:
    """Run mutmut in ``folder``; return the seconds it took.

    mutmut 3.8 finds no test for any mutant when it generates the mutants and collects which
    tests reach them in one run (it stops with "could not find any test case"); a second run,
    over the mutants the first generated, collects them. So it runs again when the first left no
    statistics behind.
    """
    start = time.monotonic()
    if (
        _mutmut(folder, max_children) != 0
        or not (folder / "mutants" / "mutmut-stats.json").exists()
    ):
        if _mutmut(folder, max_children) != 0:
            tail = (folder / "mutmut.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"mutmut failed in {folder}:\n{tail}")
    return time.monotonic() - start


def _mutmut(folder: Path, max_children: int, names: list[str] | None = None) -> int:
    """One ``mutmut run`` in ``folder`` (of the mutants ``names``, else all), its output
    appended to mutmut.log; its exit code."""
    mutmut = Path(sys.executable).parent / "mutmut"
    log = folder / "mutmut.log"
    with log.open("a") as out:
        result = subprocess.run(
            [str(mutmut), "run", "--max-children", str(max_children), *(names or [])],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            # The commands tests start (python -m mnistbench ...) import the mutated packages too
            env={**os.environ, "PYTHONPATH": str(folder / "mutants" / "src")},
            # A mutant of artifacts' liveness probe (os.kill(pid, 0) -> os.kill(pid, 1)) sends
            # SIGHUP to the "live writer" a test names, its parent: mutmut itself.
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
        )
    return result.returncode


STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
TIMEOUTS = {24, -24, 36, 152, 255}
KILLED = {"killed", "timeout"}  # a timeout counts as killed: the tests stopped the change


def run_survivors_again(module: str, folder: Path, max_children: int) -> None:
    """Copy the working tree's tests into ``folder`` (and its mutants/ copy), then run mutmut on
    the survivors of its last run only."""
    start = time.monotonic()
    for copy in (folder, folder / "mutants"):
        for path in ["tests", "plugins/conftest.py", f"{NUMPY_PLUGIN}/tests"]:
            target = copy / path
            if target.is_dir():
                shutil.rmtree(target)
            files_at(None, path, copy)
    write_config(module, folder)  # the module's tests as listed now
    # which tests reach which function is collected again: a changed test may reach others now
    (folder / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    lost = [name for name, status in results(folder).items() if status not in KILLED]
    if lost and _mutmut(folder, max_children, lost) != 0:
        tail = (folder / "mutmut.log").read_text(errors="replace")[-2000:]
        raise SystemExit(f"mutmut failed in {folder}:\n{tail}")
    seconds = time.monotonic() - start
    print(f"{module}: ran {len(lost)} survivors again in {seconds:.0f} s", flush=True)


def results(folder: Path) -> dict[str, str]:
    """Every mutant of the staging folder and its outcome, from mutmut's .meta files."""
    outcome = {}
    for meta in sorted((folder / "mutants" / "src").rglob("*.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code in TIMEOUTS:
                outcome[name] = "timeout"
            else:
                outcome[name] = STATUS.get(code, "not checked" if code is None else "suspicious")
    return outcome


def diff(folder: Path, name: str) -> str:
    mutmut = Path(sys.executable).parent / "mutmut"
    shown = subprocess.run(
        [str(mutmut), "show", name], cwd=folder, capture_output=True, text=True, check=False
    )
    return shown.stdout.strip()


def judged() -> tuple[dict[str, str], dict[str, str]]:
    """Surviving mutants judged by hand, name -> why: those that change nothing a user can see
    (``[equivalent]``), and those that change only how a figure looks, not a value, label or
    scale it shows (``[styling]``: a font size, a colour of decoration, the figure's size)."""
    tables = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    return tables.get("equivalent", {}), tables.get("styling", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of: {', '.join(MODULES)} (default: all)")
    parser.add_argument("--tests-from", help="git revision to take the tests from")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--label", help="name of this measurement (default: tests-from or now)")
    parser.add_argument(
        "--read-only", action="store_true", help="summarise the staging folders' last run again"
    )
    parser.add_argument(
        "--again", action="store_true", help="run the last run's survivors against today's tests"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
    label = args.label or args.tests_from or "worktree"
    known_equivalent, known_styling = judged()
    rows, survivors = [], []
    for module in args.modules or list(MODULES):
        folder = STAGING / label / module
        seconds = float("nan")
        if (args.read_only or args.again) and not (folder / "mutants").is_dir():
            print(f"{module}: no run labelled {label!r} to summarise ({folder})", file=sys.stderr)
            continue
        if args.again:  # the seconds column stays the whole run's, which this is not
            run_survivors_again(module, folder, args.max_children)
        elif not args.read_only:
            stage(module, folder, args.tests_from)
            seconds = run_mutmut(folder, args.max_children)
        outcome = pd.Series(results(folder), dtype=object)
        killed = int(outcome.isin(KILLED).sum())
        lost = outcome[outcome.isin(["survived", "no tests", "suspicious", "not checked"])]
        equivalent = [name for name in lost.index if name in known_equivalent]
        styling = [name for name in lost.index if name in known_styling]
        judged_away = len(equivalent) + len(styling)
        rows.append(
            {
                "label": label,
                "module": module,
                "mutants": len(outcome),
                "killed": killed,
                "survived": len(lost),
                "equivalent": len(equivalent),
                "score": killed / len(outcome) if len(outcome) else float("nan"),
                "score_without_equivalent": killed / (len(outcome) - len(equivalent))
                if len(outcome) > len(equivalent)
                else float("nan"),
                "styling": len(styling),
                "score_without_styling": killed / (len(outcome) - judged_away)
                if len(outcome) > judged_away
                else float("nan"),
                "seconds": seconds if args.read_only or args.again else round(seconds),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
        for name, status in lost.items():
            why, looks = known_equivalent.get(name), known_styling.get(name)
            mark = f"equivalent: {why}" if why else f"styling: {looks}" if looks else status
            survivors.append(f"## {name} ({mark})\n{diff(folder, name)}\n")
    if not rows:
        raise SystemExit("nothing measured")
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format="{:.3f}".format))
    OUT.mkdir(parents=True, exist_ok=True)
    csv = OUT / "mutation.csv"
    if csv.exists():
        previous = pd.read_csv(csv)
        replaced = previous.set_index(["label", "module"]).index.isin(
            table.set_index(["label", "module"]).index
        )
        table = pd.concat([previous[~replaced], table], ignore_index=True)
    table.to_csv(csv, index=False)
    (OUT / "mutants.txt").write_text(
        f"# surviving mutants ({label}; {', '.join(r['module'] for r in rows)})\n\n"
        + "\n".join(survivors)
    )
    print(f"\nwrote {csv} and {OUT / 'mutants.txt'}")


if __name__ == "__main__":
    main()
