"""A seed plan in the real Snakemake: a checkpoint looks at each cell and re-plans the DAG.

One run of the quick DAG on the MNIST sample (16 training images) with ``seeds: {first: 3, step: 1,
max: 5}`` and the test plugins of ``tests/plugins/paced_site``: NumPy's arithmetic, each epoch
padded to 1.5 s or 4.5 s (each run within 3% of it, as a real machine's runs spread), so that the
difference is known whatever else the machine runs. The mlp cell compares ``paced`` with
``paced_slow`` (three times slower: decided at the first look); the dropout_mlp cell ``paced`` with
its twin (no difference, and a speed margin of 0.1%, far inside the runs' 3% spread: undecided
until the maximum).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO, SAMPLE_DATASET
from tests.workflow.runner import copy_workflow, planned_jobs, run_snakemake

pytestmark = pytest.mark.slow
CONFIG = [
    "--config",
    "backends=[paced,paced_slow,paced_twin]",
    "variants=[mlp,dropout_mlp]",
    "subset={train: 16, test: null}",
    "hyperparameters={dropout_mlp: {epochs: 1}}",
    "seeds={first: 3, step: 1, max: 5, until: decided, margins: {accuracy: 0.01, speed: 0.001}}",
    "report={baseline: paced}",
]
ENV = {"PYTHONPATH": str(REPO / "tests" / "plugins" / "paced_site")}


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The workflow after one run under the seed plan."""
    work = copy_workflow(tmp_path_factory.mktemp("seed_plan"))
    result = run_snakemake(work, *CONFIG, env=ENV)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return work


def seeds_run(work, variant, backend):
    folder = work / "results" / SAMPLE_DATASET / variant / backend / "default"
    return sorted(int(p.parent.name[len("seed") :]) for p in folder.glob("seed*/metrics.json"))


def last_look(work, variant):
    looks = work / "results" / "seed_plan" / SAMPLE_DATASET / variant / "default"
    counts = sorted(int(p.name.split("_")[1]) for p in looks.glob("after_*_seeds.json"))
    return counts, json.loads((looks / f"after_{counts[-1]}_seeds.json").read_text())


def test_a_large_difference_stops_at_the_first_look(planned):
    assert (
        seeds_run(planned, "mlp", "paced") == seeds_run(planned, "mlp", "paced_slow") == [0, 1, 2]
    )
    counts, look = last_look(planned, "mlp")
    assert counts == [3] and look["decided"]
    readings = {c["measure"]: c for c in look["comparisons"]}
    assert readings["speed"]["reading"] == "difference" and readings["speed"]["high"] < 1
    assert readings["accuracy"]["reading"] == "equivalent within the margin"


def test_no_difference_runs_to_the_maximum_looking_after_every_seed(planned):
    assert seeds_run(planned, "dropout_mlp", "paced_twin") == [0, 1, 2, 3, 4]
    counts, look = last_look(planned, "dropout_mlp")
    assert counts == [3, 4, 5] and not look["decided"] and look["stop"]
    assert {c["measure"]: c["reading"] for c in look["comparisons"]}["speed"] == "undecided"


def test_the_report_says_how_each_cell_stopped(planned):
    html = (planned / "results" / "report.html").read_text()
    assert f"<li>mlp on {SAMPLE_DATASET}: decided after 3 seeds (look 1)</li>" in html
    assert (
        f"<li>dropout_mlp on {SAMPLE_DATASET}: undecided at the maximum, 5 seeds (look 3)</li>"
        in html
    )
    summary = (planned / "results" / "summary.csv").read_text()
    assert summary.count(",dropout_mlp,") == 10 and summary.count(",mlp,") == 6


def test_a_rerun_after_the_plan_stopped_schedules_nothing(planned):
    result = run_snakemake(planned, "--dry-run", *CONFIG, env=ENV)
    assert planned_jobs(result) == set()
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_changed_margin_looks_again_at_the_runs_there_are_and_trains_nothing(planned):
    wider = [*CONFIG[:-2], CONFIG[-2].replace("speed: 0.001", "speed: 0.5"), CONFIG[-1]]
    result = run_snakemake(planned, "--dry-run", *wider, env=ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", output, flags=re.MULTILINE))
    assert counts.get("decide_seeds") == "2"  # the first look of each cell
    assert "train_model" not in counts and "evaluate_model" not in counts


def test_a_wrong_rule_typed_on_the_command_line_stops_snakemake_with_one_line(planned):
    result = run_snakemake(planned, "--dry-run", "--config", "seeds={first: 4, max: 3}", env=ENV)
    assert result.returncode != 0
    lines = [x for x in (result.stdout + result.stderr).splitlines() if x.startswith("mnistbench:")]
    assert lines == ["mnistbench: config: seeds.max: got 3, which is below seeds.first (4)"]


def test_with_keep_going_a_failed_run_stops_only_its_own_cells_looks(tmp_path):
    # faulty (NumPy's arithmetic) raises in its set-up for dropout_mlp: that cell cannot be
    # looked at, the mlp cell is, and the runs that finished get a partial report
    work = copy_workflow(tmp_path)
    site = REPO / "tests" / "plugins" / "site"
    env = {"PYTHONPATH": f"{site}:{ENV['PYTHONPATH']}"}
    config = ["backends=[numpy,faulty]", "variants=[mlp,dropout_mlp]", "seeds={first: 2, max: 2}"]
    result = run_snakemake(work, "--keep-going", "--config", *config, env=env)
    assert result.returncode != 0
    looks = work / "results" / "seed_plan" / SAMPLE_DATASET
    assert (looks / "mlp" / "default" / "after_2_seeds.json").is_file()
    assert not (looks / "dropout_mlp").exists()
    assert (work / "results" / "partial" / "report.html").is_file()
