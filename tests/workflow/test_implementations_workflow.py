"""PyTorch's implementations through the real DAG: tuned, autograd and compiled runs side by side.

One run of the quick DAG on the MNIST sample, ``implementations={torch: [tuned, autograd,
compiled]}`` typed as on the command line: each implementation trains in a folder of its own and
records itself, the report holds them against tuned with McNemar's test finding no difference,
predictive coding is planned out of autograd in one line, and an unchanged rerun, or one that
no longer names the implementations, schedules nothing for the runs that exist.
"""

from __future__ import annotations

import json

import lxml.html
import pytest

from tests.conftest import SAMPLE_DATASET
from tests.workflow.runner import copy_workflow, planned_jobs, run_snakemake

pytestmark = pytest.mark.slow
RUNS = ["backends=torch", "variants=[mlp,predictive_coding]", "seeds=0"]
SWEEP = "implementations={torch: [tuned, autograd, compiled]}"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("implementations"))
    result = run_snakemake(work, "--config", *RUNS, SWEEP, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return work, result


def test_each_implementation_trains_in_its_own_folder_and_records_itself(finished):
    work, _ = finished
    runs = work / "results" / SAMPLE_DATASET / "mlp" / "torch"
    for folder, implementation in [
        ("default", "tuned"),
        ("implementation=autograd", "autograd"),
        ("implementation=compiled", "compiled"),
    ]:
        info = json.loads((runs / folder / "seed0" / "train.json").read_text())
        assert info["implementation"] == implementation


def test_a_variant_without_autograd_is_planned_out_in_one_line(finished):
    work, result = finished
    note = (
        "mnistbench: backend 'torch' has no 'autograd' or 'compiled' implementation of variant "
        "'predictive_coding' (it has: tuned)"
    )
    assert result.stderr.count(note) == 1
    folder = work / "results" / SAMPLE_DATASET / "predictive_coding" / "torch"
    assert sorted(p.name for p in folder.iterdir()) == ["default"]


def test_the_report_finds_no_difference_between_tuned_and_autograd_predictions(finished):
    work, _ = finished
    page = lxml.html.fromstring((work / "results" / "report.html").read_text())
    [heading] = page.xpath("//h3[@id='implementations']")
    table = heading.getnext().getnext()
    header = [c.text_content().strip() for c in table.iter("th")]
    which = next(i for i, name in enumerate(header) if name.startswith("implementation"))
    rows = [[c.text_content().strip() for c in r.iter("td")] for r in table.iter("tr")]
    readings = {r[which]: r[-1] for r in rows if r}  # implementation -> its reading against tuned
    assert readings == {
        "tuned": "the reference",
        "autograd": "no significant difference",
        "compiled": "no significant difference",
    }
    assert "its update is local Hebbian rules" in page.text_content()


def test_an_unchanged_rerun_and_one_without_the_sweep_schedule_nothing(finished):
    work, _ = finished
    again = run_snakemake(work, "--dry-run", "--config", *RUNS, SWEEP)
    assert planned_jobs(again) <= {("all",)}, again.stdout[-2000:]
    without = run_snakemake(work, "--dry-run", "--config", *RUNS)
    assert not {j for j in planned_jobs(without) if j[0] == "train_model"}, without.stdout[-2000:]
