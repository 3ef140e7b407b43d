"""The tables of a sweep: each swept setting a column beside the run's keys, runs sorted by its
values, and runs of a point that has not run yet still given their settings.

The runs are copies of one known run (:mod:`tests.known`) under the folders of sweep points,
their metrics saying which point they belong to, as the train step writes them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mnistbench.plan import points
from mnistbench.report import aggregate
from tests import known


@pytest.fixture
def source(tmp_path) -> Path:
    _, runs = known.write_results(tmp_path / "known")
    return runs[0].directory


def run_dir(root: Path, point: dict, seed: int) -> Path:
    return root / "results" / known.DATASET / "mlp" / "numpy" / points.name(point) / f"seed{seed}"


def swept_run(source: Path, root: Path, point: dict, seed: int = 0) -> Path:
    """A copy of the run in ``source`` as run ``seed`` of ``point``; its metrics file."""
    folder = run_dir(root, point, seed)
    shutil.copytree(source, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics |= {"point": point, "seed": seed}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder / "metrics.json"


def test_each_swept_setting_is_a_column_and_runs_are_sorted_by_its_values(source, tmp_path):
    grid = [{"lr": 0.5, "epochs": 2}, {"lr": 0.05, "epochs": 2}, {"lr": 0.05, "epochs": 1}]
    tables = aggregate.tables([swept_run(source, tmp_path, point) for point in grid])
    summary = tables["summary"]
    # epochs is also a measurement's column: the swept setting's column says so
    assert list(summary.columns[:8]) == [
        *("dataset", "variant", "backend", "point", "seed"),
        *("epochs (swept)", "lr", "status"),
    ]
    assert summary[["epochs (swept)", "lr"]].values.tolist() == [[1, 0.05], [2, 0.05], [2, 0.5]]
    assert summary["point"].tolist() == ["epochs=1,lr=0.05", "epochs=2,lr=0.05", "epochs=2,lr=0.5"]
    for name in ("confusion", "history", "provenance"):
        table = tables[name]
        assert list(table.columns[5:7]) == ["epochs (swept)", "lr"], name
        assert table["point"].drop_duplicates().tolist() == summary["point"].tolist(), name


def test_a_swept_device_is_the_device_column_itself(source, tmp_path):
    tables = aggregate.tables([swept_run(source, tmp_path, {"device": "cpu"})])
    assert list(tables["summary"].columns).count("device") == 1
    assert tables["summary"].loc[0, "device"] == "cpu"
    assert list(tables["provenance"].columns).count("device") == 1


def test_a_swept_implementation_names_the_default_ones_way_in_every_table(source, tmp_path):
    """The backend's default way is not in its point's name: the run's metrics say which."""
    tuned = swept_run(source, tmp_path, {})
    metrics = json.loads(tuned.read_text())
    tuned.write_text(json.dumps(metrics | {"implementation": "tuned"}))
    autograd = swept_run(source, tmp_path, {"implementation": "autograd"})
    autograd.write_text(
        json.dumps(json.loads(autograd.read_text()) | {"implementation": "autograd"})
    )
    tables = aggregate.tables([tuned, autograd])
    for name in ("summary", "confusion", "history", "provenance"):
        ways = tables[name].groupby("point")["implementation"].unique().map(list).to_dict()
        assert ways == {"default": ["tuned"], "implementation=autograd": ["autograd"]}, name


def test_a_point_that_has_not_run_yet_gives_its_settings_as_numbers(source, tmp_path):
    finished = swept_run(source, tmp_path, {})  # the default point: no swept setting
    waiting = run_dir(tmp_path, {"lr": 0.5, "epochs": 3, "device": "cpu"}, seed=4)
    summary = aggregate.tables([finished, waiting / "metrics.json"], allow_missing=True)["summary"]
    row = summary.set_index("seed").loc[4]
    assert (row["status"], row["point"]) == ("missing", "device=cpu,epochs=3,lr=0.5")
    assert (row["epochs (swept)"], row["lr"], row["device"]) == (3, 0.5, "cpu")
    assert isinstance(row["lr"], float)  # read from the folder name as a number, not text
    assert pd.isna(summary.set_index("seed").loc[0, "lr"])  # the default point sets nothing


def test_a_hashed_point_name_states_no_setting(source, tmp_path):
    finished = swept_run(source, tmp_path, {})
    waiting = finished.parent.parent.parent / "point-0123456789abcdef" / "seed4" / "metrics.json"
    summary = aggregate.tables([finished, waiting], allow_missing=True)["summary"]
    assert summary["point"].tolist() == ["default", "point-0123456789abcdef"]
    assert summary["status"].tolist() == ["ok", "missing"]


@pytest.mark.parametrize(
    "setting, column",
    [("lr", "lr"), ("hidden", "hidden"), ("epochs", "epochs (swept)"), ("device", "device")],
)
def test_a_setting_named_like_a_measurement_gets_its_own_column(setting, column):
    assert aggregate.point_column(setting) == column
    assert aggregate.point_columns({setting: 1}) == {column: 1}


def test_a_table_from_before_sweeps_gets_the_default_point_before_its_seed():
    runs = pd.DataFrame({"dataset": ["mnist"], "seed": [0], "test_accuracy": [0.9]})
    assert aggregate.with_point(runs).columns.tolist() == [
        *("dataset", "point", "seed", "test_accuracy", "implementation")
    ]
    assert aggregate.with_point(runs)["point"].tolist() == [points.DEFAULT]
    without_seed = runs.drop(columns="seed")
    assert aggregate.with_point(without_seed).columns.tolist()[0] == "point"
    assert "point" not in runs  # the caller's frame is left as it was


def test_predictions_are_where_they_were_found_when_no_folder_is_given(source, tmp_path):
    metrics = swept_run(source, tmp_path, {})
    summary = aggregate.tables([metrics])["summary"]
    assert summary.loc[0, "predictions"] == str(metrics.parent / "predictions.csv")
    relative = aggregate.tables([metrics], relative_to=tmp_path)["summary"]
    assert relative.loc[0, "predictions"] == str(
        (metrics.parent / "predictions.csv").relative_to(tmp_path)
    )
