"""The aggregated tables read back only when well formed, for ``compare`` and the report.

    summary = read_table("results/summary.csv", required=["test_accuracy"], dtype=TEXT_COLUMNS)

pandas pads a short row with blanks and reads a number cut to ``0.9x`` as text, so a table cut
mid-row (a full disk, a copy stopped half-way) would be compared as if its runs had changed.
Here such a table is refused in one line naming the file and the line: a row with other than
the header's number of fields, a column a reader needs that is missing, or a measurement column
holding something that is not a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from mnistbench.errors import MnistbenchError

# The tables' measurement columns (summary, history, confusion): numbers, or blank where none.
NUMERIC = frozenset(
    [
        "seed",
        "test_accuracy",
        "final_train_loss",
        "epochs",
        "train_samples",
        "test_samples",
        "train_limit",
        "test_limit",
        "train_seconds",
        "attempts",
        "samples_per_second",
        "predict_seconds",
        "predict_samples_per_second",
        "peak_rss_mb",
        "job_wall_seconds",
        "epoch",
        "train_loss",
        "seconds",
        "samples",
        "true",
        "predicted",
        "count",
    ]
)


def read_table(path: str | Path, required: Iterable[str] = (), **read_csv: Any) -> pd.DataFrame:
    """``path`` read by ``pandas.read_csv(**read_csv)``, after checking that every row has the
    header's fields, the ``required`` columns are there and :data:`NUMERIC` ones hold numbers.

    :raises MnistbenchError: one line naming the file, the line and what is wrong with it.
    :raises OSError, pandas.errors.EmptyDataError: as ``pandas.read_csv`` does, for a file that
        cannot be read or is empty (each caller says which table it wanted).
    """
    path = Path(path)
    header = _check_rows(path)
    missing = [column for column in required if column not in header]
    if missing:
        raise MnistbenchError(f"{path}: not a full table (missing column {', '.join(missing)})")
    table = pd.read_csv(path, **read_csv)
    for column in NUMERIC.intersection(table.columns):
        values = table[column]
        numbers = pd.to_numeric(values, errors="coerce")
        given = values.notna() & (values.astype(str).str.strip() != "")
        wrong = given & numbers.isna()
        if wrong.any():
            row = int(wrong.to_numpy().nonzero()[0][0])
            raise MnistbenchError(
                f"{path}, line {row + 2}: {column} {values.iloc[row]!r} is not a number"
            )
    return table


def _check_rows(path: Path) -> list[str]:
    """The header of ``path``, once every row has as many fields as it."""
    with path.open(newline="") as file:
        rows = csv.reader(file, strict=True)
        try:
            header = next(rows, None)
            if header is None:
                raise pd.errors.EmptyDataError(f"{path} is empty")
            for row in rows:
                if len(row) != len(header):
                    raise MnistbenchError(
                        f"{path}, line {rows.line_num}: {len(row)} fields where the header has"
                        f" {len(header)} (a row cut short or run together)"
                    )
        except csv.Error as error:
            raise MnistbenchError(f"{path}, line {rows.line_num}: not CSV ({error})") from None
    return header
