"""The runs a config asked for and the plan left out, each with its reason, for the report."""

from __future__ import annotations

import copy

from mnistbench.plan import planned_out
from mnistbench.plan.config import check, load_schema
from mnistbench.plan.experiment import plan
from tests.conftest import CONFIG


def numpy_config(**changes):
    config = {**copy.deepcopy(CONFIG), "backends": ["numpy"], "variants": ["mlp"], **changes}
    return check(config, load_schema())


def test_a_device_the_backend_cannot_use_is_listed_with_its_point_and_reason():
    experiment = plan(numpy_config(sweeps={"mlp": {"device": ["cpu", "cuda"]}}))
    assert {run.point for run in experiment.runs} == {"device=cpu"}
    assert experiment.planned_out == [
        planned_out.row(
            "mnist", "mlp", "numpy", "backend 'numpy' cannot use device 'cuda' here", "device=cuda"
        )  # fmt: skip
    ]


def test_a_plan_that_leaves_nothing_out_lists_nothing():
    assert plan(numpy_config()).planned_out == []


def test_a_row_for_every_dataset_and_variant_is_one_row_each():
    rows = [planned_out.row("", "", "jax", "backend cannot run here: no jax")]
    config = {"datasets": ["mnist", "fashion"], "variants": ["mlp", "mnn"]}
    expanded = planned_out.for_every_run(rows, config)
    assert {(r["dataset"], r["variant"]) for r in expanded} == {
        (d, v) for d in ("mnist", "fashion") for v in ("mlp", "mnn")
    }
    assert {r["reason"] for r in expanded} == {"backend cannot run here: no jax"}


def test_the_table_is_rewritten_only_when_the_list_changes(tmp_path):
    path = tmp_path / "results" / "planned_out.csv"
    rows = [planned_out.row("mnist", "mlp", "faulty", "backend 'faulty' does not implement it")]
    planned_out.write(rows, path)
    assert path.read_text().splitlines() == [
        "dataset,variant,backend,point,reason",
        "mnist,mlp,faulty,,backend 'faulty' does not implement it",
    ]
    written = path.stat().st_mtime_ns
    planned_out.write(list(reversed(rows * 2)), path)  # the same list: the report stays done
    assert path.stat().st_mtime_ns == written
    planned_out.write([], path)
    assert path.read_text() == "dataset,variant,backend,point,reason\n"
