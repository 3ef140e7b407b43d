"""The real Snakemake with a variant plugin that fails to import: under ``variants: all`` it is
named in one line and every other variant is planned, as a broken backend plugin is."""

from __future__ import annotations

import pytest

from tests.plan.test_all_variants import BROKEN, write_variant_distribution
from tests.workflow.runner import copy_workflow, planned_jobs, run_snakemake

pytestmark = pytest.mark.slow


def test_a_variant_plugin_that_fails_to_import_is_named_and_the_others_are_planned(tmp_path):
    (tmp_path / "work").mkdir()
    work = copy_workflow(tmp_path / "work")
    site = tmp_path / "site"
    write_variant_distribution(site, "mnistbench_broken", "broken", BROKEN)
    result = run_snakemake(
        work, "--dry-run", "--config", "variants=all", "backends=[numpy]",
        env={"PYTHONPATH": str(site)},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert [line for line in output.splitlines() if "broken" in line] == [
        "mnistbench: variant plugin 'broken' failed to load: "
        "ImportError: needs a library that is not installed"
    ]
    trained = {job[1] for job in planned_jobs(result) if job[0] == "train_model"}
    assert {"mlp", "mnn", "lenet"} <= trained and "broken" not in trained
