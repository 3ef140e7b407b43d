"""predictions.csv: one row per test image, label then predicted class, read back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.evaluation import predictions


def test_the_file_is_a_header_and_one_row_per_image_in_order(tmp_path):
    path = tmp_path / predictions.PREDICTIONS
    written = predictions.write(path, np.array([7, 2, 1]), np.array([7, 3, 1]))
    assert written == path
    assert path.read_text() == "label,predicted\n7,7\n2,3\n1,1\n"
    assert not [p for p in tmp_path.iterdir() if p != path]  # nothing half-written beside it


def test_reading_back_gives_the_classes_and_which_were_right(tmp_path):
    path = tmp_path / predictions.PREDICTIONS
    predictions.write(path, np.array([7, 2, 1]), np.array([7, 3, 1]))
    table = predictions.read(path)
    assert list(table.columns) == ["label", "predicted", "correct"]
    assert table["label"].tolist() == [7, 2, 1] and table["predicted"].tolist() == [7, 3, 1]
    assert table["correct"].tolist() == [True, False, True]
    assert str(table["label"].dtype) == "int64"


def test_a_diverged_runs_file_has_the_header_only_and_reads_as_empty(tmp_path):
    path = tmp_path / predictions.PREDICTIONS
    empty = np.empty(0, np.int64)
    predictions.write(path, empty, empty)
    assert path.read_text() == "label,predicted\n"
    assert predictions.read(path).empty


def test_a_file_with_other_columns_is_named_with_what_it_has(tmp_path):
    path = tmp_path / predictions.PREDICTIONS
    path.write_text("true,guess\n1,1\n")
    with pytest.raises(MnistbenchError) as error:
        predictions.read(path)
    assert str(error.value) == (
        f"{path}: not a predictions file (columns true, guess; expected label, predicted)"
    )


@pytest.mark.parametrize("text", ["label,predicted\n1,x\n", ""])
def test_a_file_that_is_not_whole_numbers_is_one_line_naming_it(tmp_path, text):
    path = tmp_path / predictions.PREDICTIONS
    path.write_text(text)
    with pytest.raises(MnistbenchError) as error:
        predictions.read(path)
    assert str(error.value).startswith(f"{path}: cannot read the run's predictions (")


def test_a_missing_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(MnistbenchError, match="cannot read the run's predictions"):
        predictions.read(tmp_path / "nothing.csv")
