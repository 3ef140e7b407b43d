"""bench/make_run.py: the whole experiment's wall time split into training, the train jobs'
phases around it, the evaluate jobs and the rest."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture
def make_run(bench_script):
    return bench_script("make_run")


def a_run(folder, backend, epochs, phases, train_job, evaluate_job):
    """A finished run's records as the workflow writes them."""
    folder.mkdir(parents=True)
    pd.DataFrame({"epoch": range(1, len(epochs) + 1), "seconds": epochs}).to_csv(
        folder / "history.csv", index=False
    )
    info = {"variant": "mlp", "backend": backend, "seconds_outside_training": phases}
    (folder / "train.json").write_text(json.dumps(info))
    for step, seconds in (("train", train_job), ("evaluate", evaluate_job)):
        header = "s\th:m:s\tmax_rss\n"
        (folder / f"{step}_benchmark.tsv").write_text(f"{header}{seconds}\t0:00:01\t100\n")


def test_each_runs_job_is_split_into_training_its_phases_and_the_rest(make_run, tmp_path):
    phases = {"prepare": 0.5, "setup": 1.0, "score": 0.25, "after_epoch": 0.125}
    a_run(tmp_path / "mlp/numpy/default/seed0", "numpy", [2.0, 3.0], phases, 8.0, 1.5)
    a_run(tmp_path / "mlp/jax/default/seed0", "jax", [1.0], phases, 4.0, 2.5)

    runs = make_run.run_rows(tmp_path).set_index("backend")

    assert runs.loc["numpy", "training"] == 5.0
    assert runs.loc["numpy", "checkpoints"] == 0.125
    assert runs.loc["numpy", "start"] == pytest.approx(8.0 - 5.0 - 1.875)
    assert runs.loc["jax", "evaluate"] == 2.5
    parts = make_run.breakdown(runs.reset_index(), wall=10.0, cores=2)
    assert parts["training"] == 6.0 and parts["evaluate"] == 4.0
    assert parts["setup"] == 2.0
    assert sum(parts.values()) == pytest.approx(20.0)  # every core-second is somewhere
    assert parts["other"] == pytest.approx(20.0 - 12.0 - 4.0)
