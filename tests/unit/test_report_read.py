"""The report step's reading and assembling: which runs count, what a damaged table gives, and
the accuracy table's seed column where no seed figure applies."""

import numpy as np
import pandas as pd
import pytest

from mnistbench import report
from mnistbench.aggregate import RUN_KEYS
from mnistbench.errors import MnistbenchError


def test_runs_without_a_status_column_or_with_a_blank_one_count_as_ok():
    old = pd.DataFrame({"variant": ["mlp", "mnn"]})
    ok, not_ok = report.split_by_status(old)
    assert list(ok["variant"]) == ["mlp", "mnn"] and not_ok.empty
    summary = pd.DataFrame(
        {"variant": ["a", "b", "c", "d"], "status": ["ok", None, "failed", "diverged"]}
    )
    ok, not_ok = report.split_by_status(summary)
    assert list(ok["variant"]) == ["a", "b"] and list(not_ok["variant"]) == ["c", "d"]


def test_tables_without_provenance_read_with_an_empty_one(tmp_path):
    for name in ("summary", "confusion", "history"):
        pd.DataFrame({"x": [1]}).to_csv(tmp_path / f"{name}.csv", index=False)
    found = report.read_tables(tmp_path)
    assert sorted(found) == ["confusion", "history", "provenance", "summary"]
    assert found["provenance"].empty
    assert list(found["provenance"].columns) == [*RUN_KEYS, "device", "item", "value"]
    pd.DataFrame({"item": ["commit"], "value": ["NA"]}).to_csv(
        tmp_path / "provenance.csv", index=False
    )
    assert report.read_tables(tmp_path)["provenance"]["value"].iloc[0] == "NA"  # text, kept


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_a_missing_or_empty_table_is_one_error_naming_the_folder(tmp_path, damage):
    for name in ("summary", "confusion"):
        pd.DataFrame({"x": [1]}).to_csv(tmp_path / f"{name}.csv", index=False)
    if damage == "empty":
        (tmp_path / "history.csv").write_text("")
    with pytest.raises(MnistbenchError, match=f"cannot read the aggregated tables in {tmp_path}"):
        report.read_tables(tmp_path)


def test_the_seed_column_is_dropped_with_a_note_when_no_run_is_on_mnist():
    seed = "seed notebook's test accuracy (its full recipe)"
    fashion = pd.DataFrame({"variant": ["mlp"], seed: [np.nan]})
    view = report.accuracy_view(fashion)
    assert view.headers == ["variant"]
    assert (
        view.caption == "The seed notebooks' figures are for MNIST: none applies to these datasets."
    )
    mnist = pd.DataFrame({"variant": ["mlp"], seed: [0.9829]})
    assert report.accuracy_view(mnist).headers == ["variant", seed]
    assert report.accuracy_view(mnist).caption == ""
