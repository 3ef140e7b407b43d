"""Only well-formed tables are compared or reported: a cut or malformed CSV is one line naming
the file and the line, from the reader and from ``compare`` and ``report`` on the command line."""

from __future__ import annotations

import pandas as pd
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.report.read_tables import read_table
from tests import known
from tests.cli import error_line, run_cli


def refusal(path, **read_csv) -> str:
    with pytest.raises(MnistbenchError) as error:
        read_table(path, **read_csv)
    return str(error.value)


def test_a_well_formed_table_reads_as_pandas_reads_it(tmp_path):
    folder = known.write(tmp_path)
    for name in ("summary", "history", "confusion"):
        path = folder / f"{name}.csv"
        pd.testing.assert_frame_equal(read_table(path), pd.read_csv(path))


def test_a_table_cut_mid_row_names_the_file_and_the_line(tmp_path):
    path = known.write(tmp_path) / "summary.csv"
    text = path.read_text()
    path.write_text(text[: text.rindex(",", 0, len(text) - 40)])  # the last row, cut short
    lines = len(path.read_text().splitlines())
    header = len(text.splitlines()[0].split(","))
    message = refusal(path)
    assert message.startswith(f"{path}, line {lines}: ")
    assert f"fields where the header has {header} (a row cut short or run together)" in message


def test_a_row_with_a_field_too_many_is_refused(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,seconds\n1,0.5\n2,0.5,7\n")
    assert refusal(path) == (
        f"{path}, line 3: 3 fields where the header has 2 (a row cut short or run together)"
    )


def test_a_text_in_a_measurement_column_names_the_column_and_the_line(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,seconds,backend\n1,0.5,numpy\n2,fast,numpy\n")
    assert refusal(path) == f"{path}, line 3: seconds 'fast' is not a number"


def test_blank_measurements_are_allowed_where_a_run_has_none(tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text("seed,status,test_accuracy\n0,ok,0.9\n1,diverged,\n")
    assert read_table(path)["test_accuracy"].isna().tolist() == [False, True]
    assert read_table(path, dtype=str, keep_default_na=False)["test_accuracy"][1] == ""


def test_a_missing_required_column_is_named(tmp_path):
    path = tmp_path / "summary.csv"
    path.write_text("seed,test_accuracy\n0,0.9\n")
    assert refusal(path, required=["seed", "epochs"]) == (
        f"{path}: not a full table (missing column epochs)"
    )


def test_an_empty_file_is_refused_as_pandas_refuses_it(tmp_path):
    empty = tmp_path / "summary.csv"
    empty.write_text("")
    with pytest.raises(pd.errors.EmptyDataError):
        read_table(empty)


def test_an_unclosed_quote_is_one_line(tmp_path):
    quoted = tmp_path / "history.csv"
    quoted.write_text('epoch,reason\n1,"cut\n')
    assert refusal(quoted).startswith(f"{quoted}, line 2: not CSV (")


def test_compare_of_a_summary_cut_mid_row_is_one_line_and_exit_1(tmp_path):
    before, after = known.write(tmp_path / "before"), known.write(tmp_path / "after")
    summary = after / "summary.csv"
    summary.write_text(summary.read_text()[:-30])
    result = run_cli("compare", str(before), str(after))
    assert result.returncode == 1
    line = error_line(result, "compare")
    assert line.startswith(f"mnistbench compare: error: {summary}, line ")
    assert "fields where the header has" in line


def test_the_report_of_a_malformed_history_is_one_line_and_exit_1(tmp_path):
    tables = known.write(tmp_path / "tables")
    history = tables / "history.csv"
    frame = pd.read_csv(history)
    frame["seconds"] = frame["seconds"].astype(object)
    frame.loc[1, "seconds"] = "n/a s"
    frame.to_csv(history, index=False)
    result = run_cli("report", "--tables", str(tables), "--out", str(tmp_path / "report.html"))
    assert result.returncode == 1
    assert error_line(result, "report") == (
        f"mnistbench report: error: {history}, line 3: seconds 'n/a s' is not a number"
    )
    assert not (tmp_path / "report.html").exists()
