"""A run's test-set predictions: ``predictions.csv`` beside its ``metrics.json``.

Two columns, ``label`` (the true class) and ``predicted``, one row per test image in the IDX
file's order: plain text that pandas, ``numpy.loadtxt`` and a person read alike, no pickle. Two
runs on the same test set can then be compared image by image after the fact (McNemar's test).
A run that diverged keeps the header only. Result folders from before predictions were kept
have none: readers say so rather than fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError

if TYPE_CHECKING:
    import pandas as pd

PREDICTIONS = "predictions.csv"
COLUMNS = ["label", "predicted"]


def write(path: str | Path, labels: np.ndarray, predicted: np.ndarray) -> Path:
    """Write the predictions to ``path`` atomically (40 kB for 10,000 images; gzip would make
    it 7 kB, but no longer readable at a glance)."""
    path = Path(path)
    rows = "".join(f"{t},{p}\n" for t, p in zip(labels.tolist(), predicted.tolist()))
    text = ",".join(COLUMNS) + "\n" + rows
    return artifacts.write_atomically(path.parent, path.name, lambda tmp: tmp.write_text(text))


def read(path: str | Path) -> pd.DataFrame:
    """The predictions in ``path``, with a boolean column ``correct`` added."""
    import pandas as pd  # here: the evaluate step writes predictions in envs without pandas

    try:
        table = pd.read_csv(path, dtype="int64")
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise MnistbenchError(f"{path}: cannot read the run's predictions ({error})") from None
    if list(table.columns) != COLUMNS:
        raise MnistbenchError(
            f"{path}: not a predictions file (columns {', '.join(table.columns)}; "
            f"expected {', '.join(COLUMNS)})"
        )
    return table.assign(correct=table["label"] == table["predicted"])
